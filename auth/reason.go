package auth

import (
	"errors"
	"strings"

	"github.com/confab-chat/confab"
)

// Reason says why auth refused, more finely than the confab code, for wire
// formats that tell these apart (the Cognito API's exception names,
// protocols.md §4.4). Every refusal is still a *confab.Error with a code
// and a safe message; the reason rides in its Op.
type Reason string

// The reasons auth gives. An error without one is told apart by its code.
const (
	ReasonNone                  Reason = ""
	ReasonPasswordPolicy        Reason = "PasswordPolicy"        // a new password breaks the policy (CodeInvalid)
	ReasonUserNotConfirmed      Reason = "UserNotConfirmed"      // sign-in before the emailed code was entered (CodeUnauthenticated)
	ReasonUserNotFound          Reason = "UserNotFound"          // admin operations only; users never learn it (CodeNotFound)
	ReasonCodeMismatch          Reason = "CodeMismatch"          // wrong verification code (CodeInvalid)
	ReasonCodeExpired           Reason = "CodeExpired"           // no valid code: expired, used or never sent (CodeInvalid)
	ReasonTooManyAttempts       Reason = "TooManyFailedAttempts" // a code's attempts are used up (CodeLimited)
	ReasonTokenRevoked          Reason = "TokenRevoked"          // a signed-out access token (CodeUnauthenticated)
	ReasonAliasExists           Reason = "AliasExists"           // a new email is another account's (CodeConflict)
	ReasonSRPUnavailable        Reason = "SRPUnavailable"        // SRP is switched off (CodeInvalid)
	ReasonPasswordResetRequired Reason = "PasswordResetRequired" // /auth sign-in of an account that must choose a password (CodeUnauthenticated)
)

// reasonOp is the Op prefix that carries a Reason.
const reasonOp = "auth.reason:"

// reasonError returns an error with code, reason and a safe message.
func reasonError(code confab.Code, r Reason, msg string) *confab.Error {
	return &confab.Error{Code: code, Message: msg, Op: reasonOp + string(r)}
}

// ReasonOf returns the reason auth gave for err, ReasonNone if none.
func ReasonOf(err error) Reason {
	var e *confab.Error
	if !errors.As(err, &e) {
		return ReasonNone
	}
	if e.Op == opPasswordPolicy {
		return ReasonPasswordPolicy
	}
	if r, ok := strings.CutPrefix(e.Op, reasonOp); ok {
		return Reason(r)
	}
	return ReasonNone
}
