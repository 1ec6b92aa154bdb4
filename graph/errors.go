package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// errorTypes gives each code the errorType AppSync clients read next to
// extensions.code (protocols.md §1.5, §3.2). None of them is one of the
// auth-typed names that make Amplify tear down its socket, except
// UNAUTHENTICATED, which is a genuine token problem.
var errorTypes = map[confab.Code]string{
	confab.CodeInvalid:         "BadUserInput",
	confab.CodeUnauthenticated: "UnauthorizedException",
	confab.CodeForbidden:       "Forbidden",
	confab.CodeNotFound:        "NotFound",
	confab.CodeConflict:        "Conflict",
	confab.CodeLimited:         "LimitExceededError",
	confab.CodeUnavailable:     "ServiceUnavailable",
	confab.CodeInternal:        "InternalFailure",
}

// ErrorType returns the AppSync errorType of a code.
func ErrorType(code confab.Code) string {
	if t, ok := errorTypes[code]; ok {
		return t
	}
	return errorTypes[confab.CodeInternal]
}

// NewErrorPresenter returns gqlgen's error presenter: the one place a
// GraphQL error gets its wire form. A *confab.Error shows its safe message,
// extensions.code and errorType (and retryAfterSeconds when it asks the
// client to wait); gqlgen's own parse and validation errors
// keep their message and code; anything else is logged once and shown as
// "Internal error.".
func NewErrorPresenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var ce *confab.Error
		switch {
		case errors.As(err, &ce):
			gqlErr.Message = confab.ErrorMessage(ce)
			setCode(gqlErr, ce.Code)
			if ce.RetryAfter > 0 {
				gqlErr.Extensions["retryAfterSeconds"] = confab.RetryAfterSeconds(ce.RetryAfter)
			}
			if ce.Code == confab.CodeInternal {
				logInternal(ctx, logger, err)
			}
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			// The client left or the request ran out of time: not a fault
			// of the server, and retryable.
			gqlErr.Message = "The request was cancelled."
			setCode(gqlErr, confab.CodeUnavailable)
		case gqlErr.Extensions["code"] != nil:
			// A parse or validation error from gqlgen: its message is
			// about the document the client sent.
			gqlErr.Extensions["errorType"] = "ValidationError"
		default:
			logInternal(ctx, logger, err)
			gqlErr.Message = confab.ErrorMessage(err)
			setCode(gqlErr, confab.CodeInternal)
		}
		return gqlErr
	}
}

func setCode(e *gqlerror.Error, code confab.Code) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = string(code)
	e.Extensions["errorType"] = ErrorType(code)
}

func logInternal(ctx context.Context, logger *slog.Logger, err error) {
	op := ""
	if graphql.HasOperationContext(ctx) {
		op = graphql.GetOperationContext(ctx).OperationName
	}
	logger.ErrorContext(ctx, "internal error", "op", op, "err", err)
}

// NewRecoverFunc turns a resolver panic into an internal error, logged
// with its stack. A panic means a broken invariant; the process keeps
// serving other requests.
func NewRecoverFunc(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return &confab.Error{Code: confab.CodeInternal, Message: "Internal error.", Err: fmt.Errorf("panic: %v", p)}
	}
}
