package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

// SQLSTATE codes the store classifies (PostgreSQL manual, appendix A).
const (
	sqlstateUniqueViolation       = "23505"
	sqlstateForeignKeyViolation   = "23503"
	sqlstateCharacterNotInRepert  = "22021" // e.g. a NUL byte in text
	sqlstateUntranslatableChar    = "22P05"
	sqlstateSerializationFailure  = "40001"
	sqlstateDeadlockDetected      = "40P01"
	sqlstateTooManyConnections    = "53300"
	sqlstateLockNotAvailable      = "55P03" // lock_timeout passed
	sqlstateIdleInTransaction     = "25P03" // idle_in_transaction_session_timeout ended the session
	sqlstateQueryCanceled         = "57014" // statement_timeout, if the URL sets one
	sqlstateAdminShutdown         = "57P01"
	sqlstateCrashShutdown         = "57P02"
	sqlstateCannotConnectNow      = "57P03"
	sqlstateConnectionClassPrefix = "08" // connection exception
)

// mapErr classifies a driver error by SQLSTATE or error type (never by its
// text): unique violations are CodeConflict, foreign-key violations
// CodeNotFound (a referenced row is missing), an unreachable or restarting
// server and a timed-out wait (lock_timeout, idle_in_transaction_session_timeout,
// statement_timeout; see sessionDefaults) CodeUnavailable: the transaction
// was rolled back, and the client retries. Anything else is wrapped with op.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *confab.Error
	if errors.As(err, &e) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		case code == sqlstateUniqueViolation:
			return &confab.Error{Code: confab.CodeConflict, Op: op, Err: err}
		case code == sqlstateForeignKeyViolation:
			return &confab.Error{Code: confab.CodeNotFound, Op: op, Err: err}
		case code == sqlstateCharacterNotInRepert, code == sqlstateUntranslatableChar:
			// PostgreSQL text cannot hold NUL. The services refuse such
			// text before it gets here (confab.ValidText); should a check
			// be missed, it stays a client's error, never a retried 500.
			return &confab.Error{Code: confab.CodeInvalid, Op: op, Err: err}
		case code == sqlstateSerializationFailure, code == sqlstateDeadlockDetected,
			code == sqlstateTooManyConnections, code == sqlstateAdminShutdown,
			code == sqlstateCrashShutdown, code == sqlstateCannotConnectNow,
			code == sqlstateLockNotAvailable, code == sqlstateIdleInTransaction,
			code == sqlstateQueryCanceled,
			len(code) == 5 && code[:2] == sqlstateConnectionClassPrefix:
			return unavailable(op, err)
		}
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The caller gave up; the engine may be fine.
		return fmt.Errorf("postgres: %s: %w", op, err)
	case errors.As(err, &connectErr), errors.As(err, &netErr),
		errors.Is(err, puddle.ErrClosedPool), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), pgconn.SafeToRetry(err):
		return unavailable(op, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

func unavailable(op string, err error) error {
	return &confab.Error{Code: confab.CodeUnavailable, Op: op, Err: err}
}

// notFound is the CodeNotFound error for a missing what ("message").
func notFound(what string) error {
	return &confab.Error{Code: confab.CodeNotFound, Err: errors.New("postgres: " + what + " not found")}
}
