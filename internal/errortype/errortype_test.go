package errortype

import (
	"testing"

	"github.com/confab-chat/confab"
)

func TestOf(t *testing.T) {
	tests := []struct {
		code confab.Code
		want string
	}{
		{confab.CodeInvalid, "BadUserInput"},
		{confab.CodeUnauthenticated, "UnauthorizedException"},
		{confab.CodeForbidden, "Forbidden"},
		{confab.CodeNotFound, "NotFound"},
		{confab.CodeConflict, "Conflict"},
		{confab.CodeLimited, "LimitExceededError"},
		{confab.CodeUnavailable, "ServiceUnavailable"},
		{confab.CodeInternal, "InternalFailure"},
		{"NO_SUCH_CODE", "InternalFailure"},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			if got := Of(tt.code); got != tt.want {
				t.Errorf("Of(%s) = %q, want %q", tt.code, got, tt.want)
			}
		})
	}
}

// Only a token problem may carry a type on which Amplify drops its socket.
func TestOf_OnlyUnauthenticatedClosesAmplifySockets(t *testing.T) {
	closing := map[string]bool{"UnauthorizedException": true, "Unauthorized": true, "NotAuthorizedException": true}
	for code, typ := range byCode {
		if closing[typ] != (code == confab.CodeUnauthenticated) {
			t.Errorf("%s has errorType %q; Amplify closes its socket on it: %v", code, typ, closing[typ])
		}
	}
}
