package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/errortype"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// NewErrorPresenter returns gqlgen's error presenter: the one place a
// GraphQL error gets its wire form. A *confab.Error shows its safe message,
// extensions.code and errorType (internal/errortype: the one table of
// AppSync errorTypes) and retryAfterSeconds when it asks the
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
			gqlErr.Extensions["errorType"] = errortype.Validation
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
	e.Extensions["errorType"] = errortype.Of(code)
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
