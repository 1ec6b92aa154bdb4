package cognito

import (
	"net/http"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
)

// apiError is a refusal decided here, at the edge, with Cognito's name.
type apiError struct {
	name    string // exception name, e.g. "NotAuthorizedException"
	message string
}

func (e *apiError) Error() string { return e.name + ": " + e.message }

func errorf(name, message string) *apiError { return &apiError{name: name, message: message} }

// byReason names the refusals auth tells apart (protocols.md §4.4).
var byReason = map[auth.Reason]string{
	auth.ReasonPasswordPolicy:        "InvalidPasswordException",
	auth.ReasonUserNotConfirmed:      "UserNotConfirmedException",
	auth.ReasonUserNotFound:          "UserNotFoundException",
	auth.ReasonCodeMismatch:          "CodeMismatchException",
	auth.ReasonCodeExpired:           "ExpiredCodeException",
	auth.ReasonTooManyAttempts:       "TooManyFailedAttemptsException",
	auth.ReasonTokenRevoked:          "NotAuthorizedException",
	auth.ReasonAliasExists:           "AliasExistsException",
	auth.ReasonSRPUnavailable:        "InvalidParameterException",
	auth.ReasonPasswordResetRequired: "PasswordResetRequiredException",
}

// byCode names every other refusal by its confab code. Unknown users on
// the users' own operations never reach here as NotFound: auth answers
// them like wrong passwords. CodeUnavailable is a 500 so that clients
// retry it (Amplify retries 5xx, protocols.md §4.2); everything
// deterministic is a 400.
var byCode = map[confab.Code]string{
	confab.CodeInvalid:         "InvalidParameterException",
	confab.CodeUnauthenticated: "NotAuthorizedException",
	confab.CodeForbidden:       "NotAuthorizedException",
	confab.CodeNotFound:        "UserNotFoundException",
	confab.CodeConflict:        "UsernameExistsException",
	confab.CodeLimited:         "TooManyRequestsException",
	confab.CodeUnavailable:     "InternalErrorException",
	confab.CodeInternal:        "InternalErrorException",
}

// exception returns the Cognito name, HTTP status and safe message of err.
func exception(err error) (name string, status int, message string) {
	if e, ok := err.(*apiError); ok {
		return e.name, http.StatusBadRequest, e.message
	}
	name, ok := byReason[auth.ReasonOf(err)]
	if !ok {
		name = byCode[confab.ErrorCode(err)]
	}
	if name == "" || name == "InternalErrorException" {
		return "InternalErrorException", http.StatusInternalServerError, confab.ErrorMessage(err)
	}
	return name, http.StatusBadRequest, confab.ErrorMessage(err)
}
