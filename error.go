package confab

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an Error. Codes are strings that go on the wire
// (GraphQL extensions.code), so a code never changes meaning.
type Code string

// The closed set of error codes. STYLE.md §2.3 maps each to its GraphQL
// extensions.code, its AppSync errorType and its HTTP status.
const (
	CodeInvalid         Code = "BAD_USER_INPUT"        // validation, size and count limits
	CodeUnauthenticated Code = "UNAUTHENTICATED"       // token missing, malformed, expired or forged
	CodeForbidden       Code = "FORBIDDEN"             // acting as someone else
	CodeNotFound        Code = "NOT_FOUND"             // missing or not visible to the caller
	CodeConflict        Code = "CONFLICT"              // uniqueness violated, idempotency key reused
	CodeLimited         Code = "RATE_LIMITED"          // rate, count or connection limits
	CodeUnavailable     Code = "UNAVAILABLE"           // store or broker temporarily unreachable
	CodeInternal        Code = "INTERNAL_SERVER_ERROR" // everything else
)

// Error is the one error type of confab. Message is safe to show any user;
// Op and Err are for logs only and never reach a client. Stores leave
// Message empty (the service words what users see); an empty Message
// reaches users as the code's generic text (ErrorMessage).
type Error struct {
	Code    Code
	Message string
	Op      string // e.g. "chat.SendMessage"
	Err     error  // underlying cause, for logs

	// RetryAfter, for CodeLimited, is how long the client should wait
	// before trying again (0: unknown). It reaches clients as the
	// Retry-After header on /auth and extensions.retryAfterSeconds in
	// GraphQL errors.
	RetryAfter time.Duration
}

// Error implements error for logs: it includes Op and the wrapped cause.
func (e *Error) Error() string {
	s := string(e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a user-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Limited returns a CodeLimited error that asks the client to wait d. The
// message gets the wait appended in whole seconds.
func Limited(d time.Duration, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	unit := "seconds"
	if RetryAfterSeconds(d) == 1 {
		unit = "second"
	}
	return &Error{Code: CodeLimited, Message: fmt.Sprintf("%s Try again in %d %s.", msg, RetryAfterSeconds(d), unit), RetryAfter: d}
}

// RetryAfterSeconds rounds d up to whole seconds, at least 1: the unit of
// the Retry-After header.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// RetryAfter returns the wait the first *Error in err's chain asks for,
// or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// ErrorCode returns the code of the first *Error in err's chain, "" for a
// nil err and CodeInternal for any other error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the user-safe message of the first *Error in err's
// chain (the code's generic text when it has none), or "Internal error."
// for any other error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if !errors.As(err, &e) || e.Code == CodeInternal {
		return genericMessages[CodeInternal]
	}
	if e.Message == "" {
		return genericMessages[e.Code]
	}
	return e.Message
}

// genericMessages is what users see of an Error without a Message.
var genericMessages = map[Code]string{
	CodeInvalid:         "The input is not valid.",
	CodeUnauthenticated: "Not signed in.",
	CodeForbidden:       "Not allowed.",
	CodeNotFound:        "Not found.",
	CodeConflict:        "It already exists.",
	CodeLimited:         "Too many requests; retry later.",
	CodeUnavailable:     "The service is unavailable; retry.",
	CodeInternal:        "Internal error.",
}
