package storetest

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

var credentialTests = []test{
	{"GetRefreshFamily/AuthTimeAndRevoked", testGetRefreshFamily},
	{"GetRefreshFamily/NotFound", testGetRefreshFamilyNotFound},
	{"RevokeUserRefreshTokens/OnlyThatUser", testRevokeUserRefreshTokens},
	{"GetCredentials/DefaultsAndNotFound", testGetCredentialsDefaults},
	{"UpdateCredentials/RoundTrip", testUpdateCredentialsRoundTrip},
	{"UpdateCredentials/PasswordClearsSRP", testUpdateCredentialsPasswordClearsSRP},
	{"UpdateCredentials/EmailConflict", testUpdateCredentialsEmailConflict},
	{"UpdateCredentials/NotFound", testUpdateCredentialsNotFound},
	{"DeleteAccount/RemovesEverything", testDeleteAccount},
	{"ListAccounts/FilterAndPage", testListAccounts},
	{"ListAccounts/Invalid", testListAccountsInvalid},
	{"VerificationCode/ReplaceAttemptsDelete", testVerificationCode},
	{"DeleteVerificationCode/ConcurrentExactlyOneWins", testDeleteVerificationCodeRace},
}

func testGetRefreshFamily(f *fixture) {
	u := f.user("ann")
	first := f.token(u.UserID, "fam")
	f.insertToken(first)
	if err := f.s.RotateRefreshToken(f.ctx, first.Hash, f.token(u.UserID, "fam")); err != nil {
		f.t.Fatal(err)
	}
	f.insertToken(f.token(u.UserID, "other"))
	want := &confab.RefreshFamily{FamilyID: "fam", UserID: u.UserID, AuthTime: first.CreatedAt}
	got, err := f.s.GetRefreshFamily(f.ctx, "fam")
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		f.t.Fatalf("GetRefreshFamily (-want +got):\n%s", diff)
	}
	if err := f.s.RevokeRefreshFamily(f.ctx, "fam"); err != nil {
		f.t.Fatal(err)
	}
	if got, err := f.s.GetRefreshFamily(f.ctx, "fam"); err != nil || !got.Revoked {
		f.t.Fatalf("GetRefreshFamily after revocation = %+v, %v; want Revoked", got, err)
	}
	if got, err := f.s.GetRefreshFamily(f.ctx, "other"); err != nil || got.Revoked {
		f.t.Fatalf("GetRefreshFamily(other) = %+v, %v; want not revoked", got, err)
	}
}

func testGetRefreshFamilyNotFound(f *fixture) {
	_, err := f.s.GetRefreshFamily(f.ctx, "missing")
	f.wantCode(err, confab.CodeNotFound)
}

func testRevokeUserRefreshTokens(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	for _, fam := range []string{"a1", "a2", "a2"} {
		f.insertToken(f.token(ann.UserID, fam))
	}
	f.insertToken(f.token(bo.UserID, "b1"))
	if err := f.s.RevokeRefreshFamily(f.ctx, "a1"); err != nil {
		f.t.Fatal(err)
	}
	got, err := f.s.RevokeUserRefreshTokens(f.ctx, ann.UserID)
	if err != nil {
		f.t.Fatal(err)
	}
	if !slices.Equal(got, []string{"a2"}) {
		f.t.Fatalf("RevokeUserRefreshTokens = %q, want [a2] (a1 was already revoked)", got)
	}
	for fam, want := range map[string]bool{"a1": true, "a2": true, "b1": false} {
		if fm, err := f.s.GetRefreshFamily(f.ctx, fam); err != nil || fm.Revoked != want {
			f.t.Fatalf("family %s = %+v, %v; want Revoked %v", fam, fm, err, want)
		}
	}
}

func testGetCredentialsDefaults(f *fixture) {
	u := f.user("ann")
	got, err := f.s.GetCredentials(f.ctx, u.UserID)
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff(&confab.Credentials{UserID: u.UserID, PasswordHash: "hash-of-ann"}, got); diff != "" {
		f.t.Fatalf("GetCredentials of a new account (-want +got):\n%s", diff)
	}
	_, err = f.s.GetCredentials(f.ctx, "nobody")
	f.wantCode(err, confab.CodeNotFound)
}

func testUpdateCredentialsRoundTrip(f *fixture) {
	u := f.user("ann")
	at := f.now()
	srp := &confab.SRPVerifier{Salt: "0a1b", Verifier: "ff00"}
	up := confab.CredentialsUpdate{PasswordHash: ptr("new-hash"), SRP: srp, Email: ptr("Ann.New@Example.com"),
		Disabled: ptr(true), Unconfirmed: ptr(true), PasswordTemporary: ptr(true), UpdatedAt: at}
	if err := f.s.UpdateCredentials(f.ctx, u.UserID, up); err != nil {
		f.t.Fatal(err)
	}
	want := &confab.Credentials{UserID: u.UserID, PasswordHash: "new-hash", Disabled: true, Unconfirmed: true, PasswordTemporary: true, SRP: srp}
	got, err := f.s.GetCredentials(f.ctx, u.UserID)
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		f.t.Fatalf("GetCredentials (-want +got):\n%s", diff)
	}
	a, err := f.s.GetAccountByLogin(f.ctx, "ann.new@example.com")
	if err != nil || a.User.UserID != u.UserID || a.User.Email != "Ann.New@Example.com" || !a.Disabled || a.User.UpdatedAt == nil || !a.User.UpdatedAt.Equal(at) {
		f.t.Fatalf("account by new email = %+v, %v; want %s with the new email, disabled, updated at %v", a, err, u.UserID, at)
	}
	// Nil fields stay; false clears.
	if err := f.s.UpdateCredentials(f.ctx, u.UserID, confab.CredentialsUpdate{Unconfirmed: ptr(false), UpdatedAt: f.now()}); err != nil {
		f.t.Fatal(err)
	}
	want.Unconfirmed = false
	if got, _ := f.s.GetCredentials(f.ctx, u.UserID); !cmp.Equal(want, got) {
		f.t.Fatalf("after clearing Unconfirmed: %s", cmp.Diff(want, got))
	}
}

func testUpdateCredentialsPasswordClearsSRP(f *fixture) {
	u := f.user("ann")
	srp := &confab.SRPVerifier{Salt: "01", Verifier: "02"}
	if err := f.s.UpdateCredentials(f.ctx, u.UserID, confab.CredentialsUpdate{SRP: srp, UpdatedAt: f.now()}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.UpdateCredentials(f.ctx, u.UserID, confab.CredentialsUpdate{Disabled: ptr(false), UpdatedAt: f.now()}); err != nil {
		f.t.Fatal(err)
	}
	if got, _ := f.s.GetCredentials(f.ctx, u.UserID); got == nil || !cmp.Equal(got.SRP, srp) {
		f.t.Fatalf("SRP after an update without a password = %+v, want %+v kept", got, srp)
	}
	if err := f.s.UpdateCredentials(f.ctx, u.UserID, confab.CredentialsUpdate{PasswordHash: ptr("h2"), UpdatedAt: f.now()}); err != nil {
		f.t.Fatal(err)
	}
	if got, _ := f.s.GetCredentials(f.ctx, u.UserID); got == nil || got.SRP != nil || got.PasswordHash != "h2" {
		f.t.Fatalf("after a new password without SRP: %+v; want hash h2 and no verifier", got)
	}
}

func testUpdateCredentialsEmailConflict(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	err := f.s.UpdateCredentials(f.ctx, bo.UserID, confab.CredentialsUpdate{Email: ptr(strings.ToUpper(ann.Email)), PasswordHash: ptr("x"), UpdatedAt: f.now()})
	f.wantCode(err, confab.CodeConflict)
	if got, _ := f.s.GetCredentials(f.ctx, bo.UserID); got == nil || got.PasswordHash != "hash-of-bo" {
		f.t.Fatalf("credentials after a failed update = %+v; want unchanged", got)
	}
}

func testUpdateCredentialsNotFound(f *fixture) {
	f.wantCode(f.s.UpdateCredentials(f.ctx, "nobody", confab.CredentialsUpdate{Disabled: ptr(true), UpdatedAt: f.now()}), confab.CodeNotFound)
}

func testDeleteAccount(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c := f.conversation(ann, bo)
	f.send(c, ann, "hello")
	f.insertToken(f.token(ann.UserID, "fam"))
	if err := f.s.UpdateCredentials(f.ctx, ann.UserID, confab.CredentialsUpdate{SRP: &confab.SRPVerifier{Salt: "1", Verifier: "2"}, UpdatedAt: f.now()}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.InsertVerificationCode(f.ctx, &confab.VerificationCode{UserID: ann.UserID, Purpose: "p", Hash: "h", ExpiresAt: f.now()}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.DeleteAccount(f.ctx, ann.UserID); err != nil {
		f.t.Fatal(err)
	}
	_, err := f.s.GetUser(f.ctx, ann.UserID)
	f.wantCode(err, confab.CodeNotFound)
	_, err = f.s.GetRefreshFamily(f.ctx, "fam")
	f.wantCode(err, confab.CodeNotFound)
	_, err = f.s.GetVerificationCode(f.ctx, ann.UserID, "p")
	f.wantCode(err, confab.CodeNotFound)
	got := f.getConversation(c.ConversationID)
	if len(got.Members) != 1 || got.Members[0].UserID != bo.UserID || got.MessageCount != 1 {
		f.t.Fatalf("conversation after deleting a member = %+v; want bo alone, the message kept", got)
	}
	f.wantCode(f.s.DeleteAccount(f.ctx, ann.UserID), confab.CodeNotFound)
	// The email and username are free again.
	if err := f.s.InsertAccount(f.ctx, &confab.Account{User: confab.User{UserID: f.id("u"), Username: ann.Username, Email: ann.Email, CreatedAt: f.now()}, PasswordHash: "h"}); err != nil {
		f.t.Fatalf("InsertAccount with a deleted account's names: %v", err)
	}
}

func testListAccounts(f *fixture) {
	var users []*confab.User
	for _, name := range []string{"ann", "anna", "bo", "cy"} {
		users = append(users, f.user(name))
	}
	ids := func(list []*confab.Account) []string {
		var out []string
		for _, a := range list {
			out = append(out, a.User.UserID)
		}
		return out
	}
	list := func(filter confab.AccountFilter) []string {
		f.t.Helper()
		got, err := f.s.ListAccounts(f.ctx, filter)
		if err != nil {
			f.t.Fatalf("ListAccounts(%+v): %v", filter, err)
		}
		return ids(got)
	}
	all := []string{users[0].UserID, users[1].UserID, users[2].UserID, users[3].UserID}
	tests := []struct {
		filter confab.AccountFilter
		want   []string
	}{
		{confab.AccountFilter{Limit: 10}, all},
		{confab.AccountFilter{Limit: 2}, all[:2]},
		{confab.AccountFilter{Limit: 2, After: all[1]}, all[2:]},
		{confab.AccountFilter{Field: "email", Value: strings.ToUpper(users[2].Email), Limit: 10}, all[2:3]},
		{confab.AccountFilter{Field: "email", Value: "ANN", Prefix: true, Limit: 10}, all[:2]},
		{confab.AccountFilter{Field: "username", Value: users[1].Username, Limit: 10}, all[1:2]},
		{confab.AccountFilter{Field: "username", Value: "an", Prefix: true, Limit: 10}, all[:2]},
		{confab.AccountFilter{Field: "username", Value: "%", Prefix: true, Limit: 10}, nil},
		{confab.AccountFilter{Field: "user_id", Value: all[3], Limit: 10}, all[3:]},
	}
	for _, tt := range tests {
		if got := list(tt.filter); !slices.Equal(got, tt.want) {
			f.t.Errorf("ListAccounts(%+v) = %q, want %q", tt.filter, got, tt.want)
		}
	}
	// A username filter compares the name as it was given, case included.
	dee := f.user("Dee")
	if got := list(confab.AccountFilter{Field: "username", Value: dee.Username, Limit: 10}); !slices.Equal(got, []string{dee.UserID}) {
		f.t.Errorf("ListAccounts(username Dee) = %q, want Dee's id", got)
	}
	got, err := f.s.ListAccounts(f.ctx, confab.AccountFilter{Field: "user_id", Value: all[0], Limit: 1})
	if err != nil || len(got) != 1 || got[0].PasswordHash != "hash-of-ann" || got[0].User.Email != users[0].Email {
		f.t.Fatalf("ListAccounts = %+v, %v; want ann's whole account", got, err)
	}
}

func testListAccountsInvalid(f *fixture) {
	for _, filter := range []confab.AccountFilter{{Limit: 0}, {Limit: confab.MaxPageLimit + 1}, {Field: "password_hash", Value: "x", Limit: 1}} {
		_, err := f.s.ListAccounts(f.ctx, filter)
		f.wantCode(err, confab.CodeInvalid)
	}
}

func testVerificationCode(f *fixture) {
	u := f.user("ann")
	exp := f.now().Add(time.Hour)
	c := &confab.VerificationCode{UserID: u.UserID, Purpose: "signup", Hash: "h1", ExpiresAt: exp}
	if err := f.s.InsertVerificationCode(f.ctx, c); err != nil {
		f.t.Fatal(err)
	}
	for want := 1; want <= 2; want++ {
		if n, err := f.s.AddVerificationCodeAttempt(f.ctx, u.UserID, "signup"); err != nil || n != want {
			f.t.Fatalf("AddVerificationCodeAttempt = %d, %v; want %d", n, err, want)
		}
	}
	got, err := f.s.GetVerificationCode(f.ctx, u.UserID, "signup")
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff(&confab.VerificationCode{UserID: u.UserID, Purpose: "signup", Hash: "h1", ExpiresAt: exp, Attempts: 2}, got); diff != "" {
		f.t.Fatalf("GetVerificationCode (-want +got):\n%s", diff)
	}
	// A new code replaces the old one and its attempts.
	c2 := &confab.VerificationCode{UserID: u.UserID, Purpose: "signup", Hash: "h2", ExpiresAt: exp.Add(time.Minute)}
	if err := f.s.InsertVerificationCode(f.ctx, c2); err != nil {
		f.t.Fatal(err)
	}
	if got, _ := f.s.GetVerificationCode(f.ctx, u.UserID, "signup"); !cmp.Equal(got, c2) {
		f.t.Fatalf("after replacement: %s", cmp.Diff(c2, got))
	}
	_, err = f.s.GetVerificationCode(f.ctx, u.UserID, "reset")
	f.wantCode(err, confab.CodeNotFound)
	_, err = f.s.AddVerificationCodeAttempt(f.ctx, u.UserID, "reset")
	f.wantCode(err, confab.CodeNotFound)
	f.wantCode(f.s.InsertVerificationCode(f.ctx, &confab.VerificationCode{UserID: "nobody", Purpose: "p", Hash: "h", ExpiresAt: exp}), confab.CodeNotFound)
	if err := f.s.DeleteVerificationCode(f.ctx, u.UserID, "signup"); err != nil {
		f.t.Fatal(err)
	}
	f.wantCode(f.s.DeleteVerificationCode(f.ctx, u.UserID, "signup"), confab.CodeNotFound)
}

func testDeleteVerificationCodeRace(f *fixture) {
	u := f.user("ann")
	if err := f.s.InsertVerificationCode(f.ctx, &confab.VerificationCode{UserID: u.UserID, Purpose: "p", Hash: "h", ExpiresAt: f.now()}); err != nil {
		f.t.Fatal(err)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f.s.DeleteVerificationCode(f.ctx, u.UserID, "p") })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch confab.ErrorCode(err) {
		case "":
			wins++
		case confab.CodeNotFound:
		default:
			f.t.Fatalf("DeleteVerificationCode: %v", err)
		}
	}
	if wins != 1 {
		f.t.Fatalf("%d deletes succeeded, want exactly 1", wins)
	}
}
