package auth

import (
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

// TestService_SignInLiftsExpiredBan: a server ban keeps a disabled account
// out until it expires; the first sign-in after that, with the right
// password, enables the account and deletes the ban. A ban for good, an
// account disabled without a ban, and a wrong password lift nothing.
func TestService_SignInLiftsExpiredBan(t *testing.T) {
	s, clk := newService(t)
	// disable disables a new account, banned until until (for good when
	// nil) when banned.
	disable := func(email string, banned bool, until *time.Time) string {
		t.Helper()
		u, err := s.SignUp(ctx, SignUpInput{Email: email, Password: testPassword}, "")
		if err != nil {
			t.Fatal(err)
		}
		if banned {
			b := &confab.Ban{UserID: u.UserID, BannedBy: "admin", CreatedAt: clk.now(), Until: until}
			if err := s.store.PutBan(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetDisabled(ctx, u.UserID, true); err != nil {
			t.Fatal(err)
		}
		return u.UserID
	}
	hour := clk.now().Add(time.Hour)
	timed := disable("timed@example.com", true, &hour)
	forever := disable("forever@example.com", true, nil)
	plain := disable("plain@example.com", false, nil)

	for _, email := range []string{"timed@example.com", "forever@example.com", "plain@example.com"} {
		_, err := s.Login(ctx, email, testPassword, "")
		wantCode(t, err, confab.CodeUnauthenticated)
	}

	clk.add(2 * time.Hour)
	_, err := s.Login(ctx, "timed@example.com", "Wr0ng-password", "")
	wantCode(t, err, confab.CodeUnauthenticated)
	if _, err := s.store.GetBan(ctx, "", timed); err != nil {
		t.Fatalf("a wrong password lifted the ban: GetBan = %v", err)
	}
	if _, err := s.Login(ctx, "timed@example.com", testPassword, ""); err != nil {
		t.Fatalf("sign-in after the ban expired: %v", err)
	}
	if _, err := s.store.GetBan(ctx, "", timed); confab.ErrorCode(err) != confab.CodeNotFound {
		t.Errorf("expired ban after sign-in: GetBan = %v, want NOT_FOUND", err)
	}
	if cred, err := s.store.GetCredentials(ctx, timed); err != nil || cred.Disabled {
		t.Errorf("account after the ban lifted: %+v, %v; want enabled", cred, err)
	}

	for _, id := range []string{forever, plain} {
		_, err := s.Login(ctx, id, testPassword, "")
		wantCode(t, err, confab.CodeUnauthenticated)
		if cred, _ := s.store.GetCredentials(ctx, id); !cred.Disabled {
			t.Errorf("%s enabled by a sign-in", id)
		}
	}
}
