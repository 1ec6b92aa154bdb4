package cognito

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
)

// TestException pins the error table: Cognito's names, and 500 only for
// InternalErrorException (protocols.md §4.2, §4.4).
func TestException(t *testing.T) {
	policy := auth.DefaultPasswordPolicy.Check("x")
	tests := []struct {
		name       string
		err        error
		wantName   string
		wantStatus int
	}{
		{"Edge", errorf("ResourceNotFoundException", "m"), "ResourceNotFoundException", http.StatusBadRequest},
		{"PasswordPolicy", policy, "InvalidPasswordException", http.StatusBadRequest},
		{"Invalid", confab.Errorf(confab.CodeInvalid, "m"), "InvalidParameterException", http.StatusBadRequest},
		{"Unauthenticated", confab.Errorf(confab.CodeUnauthenticated, "m"), "NotAuthorizedException", http.StatusBadRequest},
		{"Forbidden", confab.Errorf(confab.CodeForbidden, "m"), "NotAuthorizedException", http.StatusBadRequest},
		{"NotFound", confab.Errorf(confab.CodeNotFound, "m"), "UserNotFoundException", http.StatusBadRequest},
		{"Conflict", confab.Errorf(confab.CodeConflict, "m"), "UsernameExistsException", http.StatusBadRequest},
		{"Limited", confab.Limited(time.Second, "m"), "TooManyRequestsException", http.StatusBadRequest},
		{"Unavailable", confab.Errorf(confab.CodeUnavailable, "m"), "InternalErrorException", http.StatusInternalServerError},
		{"Internal", errors.New("disk on fire"), "InternalErrorException", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, status, msg := exception(tt.err)
			if name != tt.wantName || status != tt.wantStatus || msg == "" {
				t.Fatalf("exception = %s %d %q, want %s %d", name, status, msg, tt.wantName, tt.wantStatus)
			}
			if tt.name == "Internal" && msg != "Internal error." {
				t.Errorf("internal message = %q, want no detail", msg)
			}
		})
	}
	for r, name := range byReason {
		if name == "" || r == auth.ReasonNone {
			t.Errorf("reason %q has no exception name", r)
		}
	}
}
