package confab_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/confab-chat/confab"
)

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"Nil", nil, ""},
		{"OwnMessage", confab.Errorf(confab.CodeNotFound, "Message not found."), "Message not found."},
		{"Wrapped", fmt.Errorf("chat: %w", confab.Errorf(confab.CodeConflict, "Taken.")), "Taken."},
		{"StoreErrorGeneric", &confab.Error{Code: confab.CodeNotFound, Op: "sqlite: get user", Err: errors.New("user not found")}, "Not found."},
		{"UnavailableGeneric", &confab.Error{Code: confab.CodeUnavailable, Err: errors.New("dial tcp: refused")}, "The service is unavailable; retry."},
		{"InternalHidden", &confab.Error{Code: confab.CodeInternal, Message: "secret detail"}, "Internal error."},
		{"PlainError", errors.New("sql: no rows"), "Internal error."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := confab.ErrorMessage(tt.err); got != tt.want {
				t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
	e := &confab.Error{Code: confab.CodeNotFound, Op: "sqlite: get user", Err: errors.New("user not found")}
	if got, want := e.Error(), "sqlite: get user: NOT_FOUND: user not found"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
