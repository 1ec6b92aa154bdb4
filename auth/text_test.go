package auth

import (
	"testing"

	"github.com/confab-chat/confab"
)

// Text with NUL is refused before it reaches the store, which on SQLite
// would keep it and on PostgreSQL could not (#17 defect 8): a display name
// is BAD_USER_INPUT; a login is just no such account.
func TestService_TextWithNUL(t *testing.T) {
	s, _ := newService(t)
	t.Run("ErrSignUpDisplayName", func(t *testing.T) {
		_, err := s.SignUp(ctx, SignUpInput{Email: "nul@example.com", Password: testPassword, DisplayName: "a\x00b"}, "")
		wantCode(t, err, confab.CodeInvalid)
		if _, err := s.store.GetAccountByLogin(ctx, "nul@example.com"); confab.ErrorCode(err) != confab.CodeNotFound {
			t.Fatalf("account after a refused sign-up: %v, want none", err)
		}
	})
	t.Run("ErrSignUpEmail", func(t *testing.T) {
		_, err := s.SignUp(ctx, SignUpInput{Email: "n\x00ul@example.com", Password: testPassword}, "")
		wantCode(t, err, confab.CodeInvalid)
	})
	t.Run("ErrLogin", func(t *testing.T) {
		_, err := s.Login(ctx, "a\x00b", testPassword, "")
		wantCode(t, err, confab.CodeUnauthenticated)
	})
}

// Sign-up and the Cognito name attribute refuse the display names chat
// refuses (one rule, confab.CheckName): a copy of a name + U+200B, a bidi
// override (issue 18).
func TestService_DisplayNameInvisibleCharacters(t *testing.T) {
	s, _ := newService(t)
	for i, bad := range []string{"Ann\u200b", "Ann\u202egnp.exe"} {
		email := string(rune('a'+i)) + "@example.com"
		_, err := s.SignUp(ctx, SignUpInput{Email: email, Password: testPassword, DisplayName: bad}, "")
		wantCode(t, err, confab.CodeInvalid)
	}
	tok := signUpAndLogin(t, s, "ann@example.com")
	bad := "Ann\u2067"
	err := s.UpdateAttributes(ctx, tok.AccessToken, AttributesUpdate{DisplayName: &bad})
	wantCode(t, err, confab.CodeInvalid)
}
