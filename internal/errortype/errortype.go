// Package errortype is the one table of the errorType strings AppSync
// clients read (protocols.md §1.5, §3.2), for every edge that speaks to
// them: the GraphQL error presenter (graph), the AppSync real-time protocol
// (server/appsync), graphql-transport-ws (server/gqlws) and the shared
// WebSocket engine (server/realtime).
//
// Amplify closes its whole socket on an error whose errorType is
// UnauthorizedException, Unauthorized or NotAuthorizedException (or whose
// message contains "Token expired"), so Unauthorized is used only for a
// token that does not verify; every other error has a type outside that
// list.
//
// It holds no logic beyond the lookup and imports only the root package.
package errortype

import "github.com/confab-chat/confab"

// The errorType of each code, as the GraphQL presenter sends it in
// extensions.errorType next to extensions.code.
const (
	BadUserInput       = "BadUserInput"          // confab.CodeInvalid
	Unauthorized       = "UnauthorizedException" // confab.CodeUnauthenticated; connection_error 401 (not retried)
	Forbidden          = "Forbidden"             // confab.CodeForbidden; also a start authorised as another user
	NotFound           = "NotFound"              // confab.CodeNotFound
	Conflict           = "Conflict"              // confab.CodeConflict
	LimitExceeded      = "LimitExceededError"    // confab.CodeLimited; also over an operation rate
	ServiceUnavailable = "ServiceUnavailable"    // confab.CodeUnavailable
	InternalFailure    = "InternalFailure"       // confab.CodeInternal; also an error with no type
)

// The errorTypes of protocol errors, which no confab.Code stands for.
const (
	BadRequest           = "BadRequestException"          // connection_error 400 (not retried); a malformed frame or start
	ConnectionTimeout    = "ConnectionTimeoutError"       // connection_error 408 (retried): no connection_init in time
	DuplicatedOperation  = "DuplicatedOperationError"     // a start with the id of an active subscription
	MaxSubscriptions     = "MaxSubscriptionsReachedError" // more subscriptions than a connection may hold
	Validation           = "ValidationError"              // a document that does not parse or validate
	UnsupportedOperation = "UnsupportedOperation"         // a query or mutation where only subscriptions are served
)

var byCode = map[confab.Code]string{
	confab.CodeInvalid:         BadUserInput,
	confab.CodeUnauthenticated: Unauthorized,
	confab.CodeForbidden:       Forbidden,
	confab.CodeNotFound:        NotFound,
	confab.CodeConflict:        Conflict,
	confab.CodeLimited:         LimitExceeded,
	confab.CodeUnavailable:     ServiceUnavailable,
	confab.CodeInternal:        InternalFailure,
}

// Of returns the errorType of code; InternalFailure for a code outside the
// closed set.
func Of(code confab.Code) string {
	if t, ok := byCode[code]; ok {
		return t
	}
	return InternalFailure
}
