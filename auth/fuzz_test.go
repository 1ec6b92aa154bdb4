package auth

import (
	"testing"

	"github.com/confab-chat/confab"
)

// FuzzVerify: any token string is either a valid identity or
// UNAUTHENTICATED; never a panic or another code.
func FuzzVerify(f *testing.F) {
	s, _ := newService(f)
	tok := signUpAndLoginF(f, s)
	f.Add(tok)
	f.Add("Bearer " + tok)
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, token string) {
		id, err := s.Verify(token)
		if err != nil && confab.ErrorCode(err) != confab.CodeUnauthenticated {
			t.Fatalf("Verify error code = %q", confab.ErrorCode(err))
		}
		if err == nil && id.UserID == "" {
			t.Fatal("accepted a token without a subject")
		}
	})
}

func signUpAndLoginF(f *testing.F, s *Service) string {
	if _, err := s.SignUp(ctx, SignUpInput{Email: "fuzz@example.com", Password: "Passw0rd!"}, ""); err != nil {
		f.Fatal(err)
	}
	tok, err := s.Login(ctx, "fuzz@example.com", "Passw0rd!", "")
	if err != nil {
		f.Fatal(err)
	}
	return tok.IDToken
}
