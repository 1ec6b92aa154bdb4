package auth

import (
	"strings"
	"testing"
)

func TestPasswordPolicy_Check(t *testing.T) {
	strict := PasswordPolicy{MinLength: 12, RequireSymbol: true}
	tests := []struct {
		name   string
		policy PasswordPolicy
		pw     string
		ok     bool
	}{
		{"OK", DefaultPasswordPolicy, "Passw0rd", true},
		{"OKSymbols", DefaultPasswordPolicy, "TestPassword123!", true},
		{"OKUnicode", DefaultPasswordPolicy, "Ünïcødé9x", true},
		{"ErrShort", DefaultPasswordPolicy, "short1A", false},
		{"ErrNoUpper", DefaultPasswordPolicy, "alllowercase1", false},
		{"ErrNoLower", DefaultPasswordPolicy, "ALLUPPERCASE1", false},
		{"ErrNoDigit", DefaultPasswordPolicy, "NoDigitsHere", false},
		{"ErrEmpty", DefaultPasswordPolicy, "", false},
		{"ErrTooLong", DefaultPasswordPolicy, strings.Repeat("Aa1", 100), false},
		{"OKCustom", strict, "lower-only-long", true},
		{"ErrCustomNoSymbol", strict, "loweronlylong", false},
		{"ErrCustomShort", strict, "short-one", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Check(tt.pw)
			if (err == nil) != tt.ok {
				t.Fatalf("Check(%q) = %v, want ok=%v", tt.pw, err, tt.ok)
			}
			if err != nil && !IsPasswordPolicyError(err) {
				t.Errorf("Check(%q) error is not a policy error", tt.pw)
			}
		})
	}
}

func TestPassword_HashAndCheck(t *testing.T) {
	h := hashPassword("Secret123")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %q, want PHC argon2id with OWASP parameters", h)
	}
	if h == hashPassword("Secret123") {
		t.Error("two hashes of one password are equal: the salt is missing")
	}
	tests := []struct {
		name string
		pw   string
		hash string
		ok   bool
	}{
		{"OK", "Secret123", h, true},
		{"ErrWrong", "Secret124", h, false},
		{"ErrEmpty", "", h, false},
		{"ErrAbsurdParameters", "x", "$argon2id$v=19$m=99999999,t=1,p=1$AA$AA", false},
		{"ErrNotPHC", "x", "plain", false},
		{"ErrOtherAlgorithm", "x", "$2a$10$abcdefghijklmnopqrstuv", false},
		{"ErrNoKey", "x", "$argon2id$v=19$m=8,t=1,p=1$AAAA$", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkPassword(tt.pw, tt.hash); got != tt.ok {
				t.Fatalf("checkPassword = %v, want %v", got, tt.ok)
			}
		})
	}
}
