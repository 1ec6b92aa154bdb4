package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/confab-chat/confab"
)

// transient reports whether err is worth retrying: throttling, a
// transaction that collided with another, a lost race on a counter, a
// service-side error, or a connection that failed. Classification is by
// error type and AWS error code, never by message text.
func transient(err error) bool {
	if errors.Is(err, errLostRace) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	for _, r := range cancelReasons(err) {
		switch r {
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			return true
		}
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"TransactionInProgressException", "TransactionConflictException", "InternalServerError",
			"InternalFailure", "ServiceUnavailable", "LimitExceededException":
			return true
		}
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool()
}

// mapErr turns an SDK error into a confab error: what is still transient
// after the retries is CodeUnavailable; a missing table is CodeUnavailable
// too (the store is not usable until it is created); anything else is
// wrapped with op, its AWS message kept for the log, not the client (a
// store's errors carry no Message).
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *confab.Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	var rnf *types.ResourceNotFoundException
	if errors.As(err, &rnf) || transient(err) {
		return unavailable(op, err)
	}
	return &confab.Error{Code: confab.CodeInternal, Op: op, Err: fmt.Errorf("dynamodb: %w", err)}
}

func unavailable(op string, err error) error {
	return &confab.Error{Code: confab.CodeUnavailable, Op: op, Err: fmt.Errorf("dynamodb: %w", err)}
}

// notFound is the CodeNotFound error for a missing what ("message").
func notFound(what string) error {
	return &confab.Error{Code: confab.CodeNotFound, Err: errors.New("dynamodb: " + what + " not found")}
}

func conflict(op, what string) error {
	return &confab.Error{Code: confab.CodeConflict, Op: op, Err: errors.New("dynamodb: " + what)}
}
