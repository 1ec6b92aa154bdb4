package admin

import (
	"testing"

	"github.com/confab-chat/confab/auth"
)

// TestTemporaryPassword: a temporary password meets a policy requiring
// every class of character, every time, and never repeats.
func TestTemporaryPassword(t *testing.T) {
	strict := auth.PasswordPolicy{MinLength: 20, MaxLength: 64, RequireUpper: true, RequireLower: true, RequireDigit: true, RequireSymbol: true}
	seen := map[string]bool{}
	for range 1000 {
		pw := temporaryPassword()
		if err := strict.Check(pw); err != nil {
			t.Fatalf("%q: %v", pw, err)
		}
		if seen[pw] {
			t.Fatalf("%q came twice", pw)
		}
		seen[pw] = true
	}
}
