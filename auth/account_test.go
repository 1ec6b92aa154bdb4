package auth

import (
	"strconv"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

func TestService_SignUp(t *testing.T) {
	s, _ := newService(t)
	long := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a'
		}
		return string(b)
	}
	tests := []struct {
		name         string
		in           SignUpInput
		want         confab.Code
		wantUsername string
		wantEmail    string
	}{
		{"OK", SignUpInput{Email: "Bo@Example.com", Password: testPassword, Username: "bo", DisplayName: " Bo "}, "", "bo", "bo@example.com"},
		{"OKUsernameDefaultsToEmail", SignUpInput{Email: " Cy@Example.COM ", Password: testPassword}, "", "cy@example.com", "cy@example.com"},
		{"OKUsernameIsOwnEmail", SignUpInput{Email: "di@example.com", Password: testPassword, Username: "DI@example.com"}, "", "di@example.com", "di@example.com"},
		{"ErrDuplicateEmail", SignUpInput{Email: "BO@example.com", Password: testPassword, Username: "bo2"}, confab.CodeConflict, "", ""},
		{"ErrDuplicateUsername", SignUpInput{Email: "x@example.com", Password: testPassword, Username: "bo"}, confab.CodeConflict, "", ""},
		{"ErrBadEmail", SignUpInput{Email: "not-an-email", Password: testPassword}, confab.CodeInvalid, "", ""},
		{"ErrEmailWithName", SignUpInput{Email: "Ann <ann@example.com>", Password: testPassword}, confab.CodeInvalid, "", ""},
		{"ErrEmailTooLong", SignUpInput{Email: long(250) + "@example.com", Password: testPassword}, confab.CodeInvalid, "", ""},
		{"ErrEmptyEmail", SignUpInput{Password: testPassword}, confab.CodeInvalid, "", ""},
		{"ErrBadUsername", SignUpInput{Email: "y@example.com", Password: testPassword, Username: "has space"}, confab.CodeInvalid, "", ""},
		{"ErrUsernameTooLong", SignUpInput{Email: "y@example.com", Password: testPassword, Username: long(65)}, confab.CodeInvalid, "", ""},
		{"ErrUsernameOthersEmail", SignUpInput{Email: "y@example.com", Password: testPassword, Username: "victim@example.com"}, confab.CodeInvalid, "", ""},
		{"ErrWeakPassword", SignUpInput{Email: "z@example.com", Password: "password"}, confab.CodeInvalid, "", ""},
		{"ErrDisplayNameTooLong", SignUpInput{Email: "z@example.com", Password: testPassword, DisplayName: long(confab.MaxDisplayNameBytes + 1)}, confab.CodeInvalid, "", ""},
		{"ErrDisplayNameNotUTF8", SignUpInput{Email: "z@example.com", Password: testPassword, DisplayName: "\xff"}, confab.CodeInvalid, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := s.SignUp(ctx, tt.in, "")
			wantCode(t, err, tt.want)
			if err != nil {
				return
			}
			if u.Username != tt.wantUsername || u.Email != tt.wantEmail {
				t.Errorf("user = %q <%s>, want %q <%s>", u.Username, u.Email, tt.wantUsername, tt.wantEmail)
			}
			stored, err := s.store.GetUser(ctx, u.UserID)
			if err != nil {
				t.Fatalf("user record: %v", err)
			}
			if stored.Email != tt.wantEmail || stored.Username != tt.wantUsername {
				t.Errorf("stored user = %+v", stored)
			}
		})
	}
	t.Run("StoresArgon2idHash", func(t *testing.T) {
		a, err := s.store.GetAccountByLogin(ctx, "bo")
		if err != nil {
			t.Fatal(err)
		}
		if !checkPassword(testPassword, a.PasswordHash) {
			t.Fatalf("stored hash %q does not check", a.PasswordHash)
		}
		if a.User.DisplayName == nil || *a.User.DisplayName != "Bo" {
			t.Errorf("display name = %v, want Bo", a.User.DisplayName)
		}
	})
}

func TestService_SignUp_RateLimit(t *testing.T) {
	s, clk := newService(t, Config{SignupsPerMinute: 3})
	signUp := func(i int, addr string) error {
		_, err := s.SignUp(ctx, SignUpInput{Email: string(rune('a'+i)) + "@example.com", Password: testPassword}, addr)
		return err
	}
	for i := range 3 {
		if err := signUp(i, "10.0.0.1"); err != nil {
			t.Fatalf("sign-up %d: %v", i, err)
		}
	}
	err := signUp(3, "10.0.0.1")
	wantCode(t, err, confab.CodeLimited)
	if d := confab.RetryAfter(err); d <= 0 || d > time.Minute {
		t.Errorf("RetryAfter = %v, want within a minute", d)
	}
	if err := signUp(4, "10.0.0.2"); err != nil {
		t.Errorf("another address: %v", err)
	}
	if err := signUp(5, ""); err != nil {
		t.Errorf("no address (CLI): %v", err)
	}
	clk.add(time.Minute)
	if err := signUp(6, "10.0.0.1"); err != nil {
		t.Errorf("after a minute: %v", err)
	}

	t.Run("NegativeDisables", func(t *testing.T) {
		s, _ := newService(t, Config{SignupsPerMinute: -1, Policy: PasswordPolicy{MinLength: 1}})
		for i := range 40 {
			if _, err := s.SignUp(ctx, SignUpInput{Email: "u" + strconv.Itoa(i) + "@example.com", Password: "p"}, "127.0.0.1"); err != nil {
				t.Fatalf("sign-up %d: %v", i, err)
			}
		}
	})
}

func TestService_Login(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s, _ := newService(t)
		if _, err := s.SignUp(ctx, SignUpInput{Email: "ann@example.com", Username: "ann", Password: testPassword}, ""); err != nil {
			t.Fatal(err)
		}
		for _, login := range []string{"ann@example.com", "ANN@Example.com", "ann", " ann "} {
			tok, err := s.Login(ctx, login, testPassword, "10.0.0.1")
			if err != nil {
				t.Fatalf("Login(%q) = %v", login, err)
			}
			if tok.ExpiresIn != 3600 || tok.TokenType != "Bearer" || tok.RefreshToken == "" {
				t.Errorf("tokens = %+v", tok)
			}
		}
	})
	t.Run("ErrSameAnswerUnknownAndWrong", func(t *testing.T) {
		s, _ := newService(t)
		signUpAndLogin(t, s, "ann@example.com")
		_, unknown := s.Login(ctx, "nobody@example.com", testPassword, "10.0.0.2")
		_, wrong := s.Login(ctx, "ann@example.com", "Wrong0000", "10.0.0.3")
		wantCode(t, unknown, confab.CodeUnauthenticated)
		if unknown.Error() != wrong.Error() || confab.ErrorMessage(wrong) != "Incorrect username or password." {
			t.Fatalf("unknown user %v vs wrong password %v: must be identical", unknown, wrong)
		}
	})
	t.Run("ErrDisabled", func(t *testing.T) {
		s, _ := newService(t)
		hash := testArgon.hash(testPassword)
		acct := &confab.Account{User: confab.User{UserID: "u-disabled", Username: "dis", Email: "dis@example.com", CreatedAt: time.Now()}, PasswordHash: hash, Disabled: true}
		if err := s.store.InsertAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
		_, err := s.Login(ctx, "dis", testPassword, "")
		wantCode(t, err, confab.CodeUnauthenticated)
		if confab.ErrorMessage(err) != "Incorrect username or password." {
			t.Errorf("message = %q", confab.ErrorMessage(err))
		}
	})
	t.Run("ErrMissing", func(t *testing.T) {
		s, _ := newService(t)
		_, err := s.Login(ctx, "", testPassword, "")
		wantCode(t, err, confab.CodeInvalid)
		_, err = s.Login(ctx, "ann", "", "")
		wantCode(t, err, confab.CodeInvalid)
	})
}

func TestService_Login_Lockout(t *testing.T) {
	// Failures lock the (account, address) pair: the guesser's address is
	// locked out, the owner's known address is not.
	t.Run("PerAccountAndAddress", func(t *testing.T) {
		s, clk := newService(t)
		if _, err := s.SignUp(ctx, SignUpInput{Email: "ann@example.com", Username: "ann", Password: testPassword}, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Login(ctx, "ann", testPassword, "10.9.9.9"); err != nil { // the owner's address becomes known
			t.Fatal(err)
		}
		// Five failures from one address, under both of the account's names.
		for _, login := range []string{"ann", "ANN@example.com", "ann", "ann@example.com", "ann"} {
			_, err := s.Login(ctx, login, "Wrong0000", "10.1.0.1")
			wantCode(t, err, confab.CodeUnauthenticated)
		}
		_, err := s.Login(ctx, "ann@example.com", testPassword, "10.1.0.1")
		wantCode(t, err, confab.CodeLimited)
		if d := confab.RetryAfter(err); d != 15*time.Minute {
			t.Errorf("RetryAfter = %v, want 15m", d)
		}
		if _, err := s.Login(ctx, "ann", testPassword, "10.9.9.9"); err != nil {
			t.Fatalf("the owner from a known address: %v", err)
		}
		clk.add(15 * time.Minute)
		if _, err := s.Login(ctx, "ann", testPassword, "10.1.0.1"); err != nil {
			t.Fatalf("after the lockout: %v", err)
		}
		// Success cleared the count; a second lockout lasts twice as long.
		for range 5 {
			s.Login(ctx, "ann", "Wrong0000", "10.1.0.1")
		}
		_, err = s.Login(ctx, "ann", testPassword, "10.1.0.1")
		if d := confab.RetryAfter(err); d != 30*time.Minute {
			t.Errorf("second lockout RetryAfter = %v, want 30m", d)
		}
	})
	// Failures from many addresses (issue 18: five wrong passwords from five
	// addresses locked the owner out for 900 s, doubling to a day) throttle
	// the account only for addresses it never signed in from, by a delay
	// from a second up to the window.
	t.Run("DistributedGuessesThrottleNewAddresses", func(t *testing.T) {
		s, clk := newService(t)
		if _, err := s.SignUp(ctx, SignUpInput{Email: "ann@example.com", Username: "ann", Password: testPassword}, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Login(ctx, "ann", testPassword, "10.9.9.9"); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			_, err := s.Login(ctx, "ann", "Wrong0000", "10.1.0."+string(rune('1'+i)))
			wantCode(t, err, confab.CodeUnauthenticated)
		}
		if _, err := s.Login(ctx, "ann@example.com", testPassword, "10.9.9.9"); err != nil {
			t.Fatalf("the owner from a known address: %v", err)
		}
		for i := range 5 {
			s.Login(ctx, "ann", "Wrong0000", "10.2.0."+string(rune('1'+i)))
		}
		_, err := s.Login(ctx, "ann", testPassword, "10.8.8.8") // the owner on a new device
		wantCode(t, err, confab.CodeLimited)
		if d := confab.RetryAfter(err); d != time.Second {
			t.Errorf("throttle RetryAfter = %v, want 1s", d)
		}
		clk.add(time.Second)
		_, err = s.Login(ctx, "ann", "Wrong0000", "10.2.0.9") // each further failure doubles the delay
		wantCode(t, err, confab.CodeUnauthenticated)
		_, err = s.Login(ctx, "ann", testPassword, "10.8.8.8")
		if d := confab.RetryAfter(err); d != 2*time.Second {
			t.Errorf("second throttle RetryAfter = %v (%v), want 2s", d, err)
		}
		if _, err := s.Login(ctx, "ann", testPassword, "10.9.9.9"); err != nil {
			t.Fatalf("the owner from a known address while throttled: %v", err)
		}
		clk.add(2 * time.Second)
		if _, err := s.Login(ctx, "ann", testPassword, "10.8.8.8"); err != nil {
			t.Fatalf("a new address after the delay: %v", err)
		}
	})
	t.Run("PerAddress", func(t *testing.T) {
		s, clk := newService(t)
		signUpAndLogin(t, s, "ann@example.com")
		for i := range 5 {
			s.Login(ctx, "guess"+string(rune('a'+i))+"@example.com", "Wrong0000", "10.7.7.7")
		}
		_, err := s.Login(ctx, "ann@example.com", testPassword, "10.7.7.7")
		wantCode(t, err, confab.CodeLimited)
		if _, err := s.Login(ctx, "ann@example.com", testPassword, "10.7.7.8"); err != nil {
			t.Errorf("another address: %v", err)
		}
		clk.add(15 * time.Minute)
		if _, err := s.Login(ctx, "ann@example.com", testPassword, "10.7.7.7"); err != nil {
			t.Errorf("after the lockout: %v", err)
		}
	})
	t.Run("PerIPv6Block", func(t *testing.T) {
		s, _ := newService(t)
		signUpAndLogin(t, s, "ann@example.com")
		for i := range 5 {
			s.Login(ctx, "guess"+string(rune('a'+i))+"@example.com", "Wrong0000", "2001:db8:1:2::"+string(rune('1'+i)))
		}
		_, err := s.Login(ctx, "ann@example.com", testPassword, "2001:db8:1:2:ffff::1")
		wantCode(t, err, confab.CodeLimited)
	})
	t.Run("UnderLimitNotLocked", func(t *testing.T) {
		s, clk := newService(t)
		signUpAndLogin(t, s, "ann@example.com")
		for range 4 {
			s.Login(ctx, "ann@example.com", "Wrong0000", "10.3.0.1")
		}
		clk.add(15 * time.Minute) // the window passed: counting starts again
		for range 4 {
			s.Login(ctx, "ann@example.com", "Wrong0000", "10.3.0.1")
		}
		if _, err := s.Login(ctx, "ann@example.com", testPassword, "10.3.0.1"); err != nil {
			t.Errorf("4 failures per window: %v", err)
		}
	})
	t.Run("NegativeDisables", func(t *testing.T) {
		s, _ := newService(t, Config{LoginFailures: -1})
		signUpAndLogin(t, s, "ann@example.com")
		for range 8 {
			s.Login(ctx, "ann@example.com", "Wrong0000", "10.4.0.1")
		}
		if _, err := s.Login(ctx, "ann@example.com", testPassword, "10.4.0.1"); err != nil {
			t.Errorf("lockout disabled: %v", err)
		}
	})
}

// TestService_Login_RateLimit: sign-in attempts, successful ones included,
// are bounded per address by a token bucket of LoginsPerMinute; other
// addresses and sign-ins without an address (the CLI) are not affected.
func TestService_Login_RateLimit(t *testing.T) {
	s, clk := newService(t, Config{LoginsPerMinute: 3})
	if _, err := s.SignUp(ctx, SignUpInput{Email: "ann@example.com", Password: testPassword}, ""); err != nil {
		t.Fatal(err)
	}
	login := func(addr string) error {
		_, err := s.Login(ctx, "ann@example.com", testPassword, addr)
		return err
	}
	for i := range 3 {
		if err := login("10.0.0.1"); err != nil {
			t.Fatalf("sign-in %d: %v", i+1, err)
		}
	}
	err := login("10.0.0.1")
	wantCode(t, err, confab.CodeLimited)
	if d := confab.RetryAfter(err); d != 20*time.Second {
		t.Errorf("RetryAfter = %v, want 20s (3 per minute)", d)
	}
	if err := login("10.0.0.2"); err != nil {
		t.Errorf("another address: %v", err)
	}
	if err := login(""); err != nil {
		t.Errorf("no address: %v", err)
	}
	clk.add(20 * time.Second)
	if err := login("10.0.0.1"); err != nil {
		t.Errorf("after the advertised wait: %v", err)
	}
}
