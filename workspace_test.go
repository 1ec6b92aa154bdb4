package confab

import "testing"

func TestValidWorkspaceID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"acme", true},
		{"a", true},
		{"globex-2", true},
		{"a234567890123456789012345678901", true}, // 31 characters
		{"a2345678901234567890123456789012", false},
		{"", false},
		{"default", false},
		{"Acme", false},
		{"2acme", false},
		{"-acme", false},
		{"ac_me", false},
		{"ac.me", false},
		{"ac/me", false},
	}
	for _, tt := range tests {
		if err := ValidWorkspaceID(tt.id); (err == nil) != tt.ok {
			t.Errorf("ValidWorkspaceID(%q) = %v, want ok %v", tt.id, err, tt.ok)
		}
	}
}

func TestSignupPolicy_Valid(t *testing.T) {
	for _, p := range []SignupPolicy{"", SignupOpen, SignupInvitation, SignupDomain} {
		if !p.Valid() {
			t.Errorf("%q.Valid() = false, want true", p)
		}
	}
	for _, p := range []SignupPolicy{"Open", "closed", "invite"} {
		if p.Valid() {
			t.Errorf("%q.Valid() = true, want false", p)
		}
	}
}
