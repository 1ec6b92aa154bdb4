package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

var (
	_ confab.OutboxStore      = (*Store)(nil)
	_ confab.OutboxBatchStore = (*Store)(nil)
)

// insertOutbox adds one outbox entry; outboxArgs gives its arguments.
// The append path runs it without RETURNING (insertOutboxNoID): nothing
// there needs the ID, and reading it back costs every append.
const (
	insertOutboxNoID = `INSERT INTO outbox (channel, target, event_id, event, conversation_id, at, data, not_before)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	insertOutbox = insertOutboxNoID + ` RETURNING id`
)

const outboxColumns = `id, channel, target, event_id, event, conversation_id, at, data, attempts, not_before, owner, lease_until, last_error, done, dead`

func outboxArgs(e *confab.OutboxEntry) []any {
	return []any{e.Channel, e.Target, e.EventID, string(e.Event), e.ConversationID, ms(e.At), string(e.Data), ms(e.NotBefore)}
}

// rowQuerier is a transaction (or the database, outside one).
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// enqueue writes e in q, the transaction of the change that causes it,
// and assigns its ID.
func enqueue(ctx context.Context, q rowQuerier, e *confab.OutboxEntry) error {
	return mapErr("enqueue outbox", q.QueryRowContext(ctx, insertOutbox, outboxArgs(e)...).Scan(&e.ID))
}

// enqueueStmt is enqueue on insertOutboxNoID prepared in the
// transaction; e.ID is left unset.
func enqueueStmt(ctx context.Context, stmt *sql.Stmt, e *confab.OutboxEntry) error {
	_, err := stmt.ExecContext(ctx, outboxArgs(e)...)
	return mapErr("enqueue outbox", err)
}

func scanOutbox(row scanner) (*confab.OutboxEntry, error) {
	var e confab.OutboxEntry
	var event, data string
	var at, notBefore, lease int64
	if err := row.Scan(&e.ID, &e.Channel, &e.Target, &e.EventID, &event, &e.ConversationID, &at, &data, &e.Attempts,
		&notBefore, &e.Owner, &lease, &e.LastError, &e.Done, &e.Dead); err != nil {
		return nil, err
	}
	if e.EventID == 0 {
		e.EventID = e.ID
	}
	e.Event, e.Data = confab.OutboxEvent(event), []byte(data)
	e.At, e.NotBefore = fromMS(at), fromMS(notBefore)
	if lease != 0 {
		e.LeaseUntil = fromMS(lease)
	}
	return &e, nil
}

// ClaimOutbox implements confab.OutboxStore. The write connection is
// single and BEGIN IMMEDIATE locks the file, so two claims (also from two
// processes on one file) never overlap: the lease is a column.
func (s *Store) ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*confab.OutboxEntry, error) {
	const op = "claim outbox"
	rows, err := s.write.QueryContext(ctx, `UPDATE outbox SET owner = ?1, lease_until = ?2, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox WHERE done = 0 AND dead = 0 AND not_before <= ?3 AND lease_until < ?3 ORDER BY id LIMIT ?4)
		RETURNING `+outboxColumns, owner, ms(now.Add(lease)), ms(now), max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []*confab.OutboxEntry
	for rows.Next() {
		e, err := scanOutbox(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(op, err)
	}
	// RETURNING gives no order; callers deliver oldest first.
	slices.SortFunc(out, func(a, b *confab.OutboxEntry) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// settle applies set to the entry and releases its lease when owner holds
// it, and inserts next, in one transaction; CodeConflict when the lease
// is lost.
func (s *Store) settle(ctx context.Context, op string, id int64, owner, set string, args []any, next []*confab.OutboxEntry) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	res, err := tx.ExecContext(ctx, `UPDATE outbox SET `+set+`, owner = '', lease_until = 0 WHERE id = ? AND owner = ? AND done = 0 AND dead = 0`,
		append(args, id, owner)...)
	if err != nil {
		return mapErr(op, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return &confab.Error{Code: confab.CodeConflict, Op: "sqlite: " + op, Err: errors.New("outbox lease lost")}
	}
	for _, e := range next {
		if err := enqueue(ctx, tx, e); err != nil {
			return err
		}
	}
	if set == completed && len(next) == 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = ? AND channel = ?`, id, confab.ChannelEvent); err != nil {
			return mapErr(op, err)
		}
	}
	return mapErr(op, tx.Commit())
}

// completed is settle's set for CompleteOutbox.
const completed = `done = 1`

// CompleteOutbox implements confab.OutboxStore.
func (s *Store) CompleteOutbox(ctx context.Context, id int64, owner string, next []*confab.OutboxEntry) error {
	return s.settle(ctx, "complete outbox", id, owner, completed, nil, next)
}

// CompleteOutboxes implements confab.OutboxBatchStore.
func (s *Store) CompleteOutboxes(ctx context.Context, ids []int64, owner string) (int, error) {
	const op = "complete outboxes"
	if len(ids) == 0 {
		return 0, nil
	}
	args := append([]any{owner, confab.ChannelEvent}, anyInts(ids)...)
	res, err := s.write.ExecContext(ctx, `UPDATE outbox SET `+completed+`, owner = '', lease_until = 0
		WHERE owner = ? AND channel != ? AND done = 0 AND dead = 0 AND id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return 0, mapErr(op, err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(op, err)
}

func anyInts(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// RetryOutbox implements confab.OutboxStore.
func (s *Store) RetryOutbox(ctx context.Context, id int64, owner string, notBefore time.Time, lastErr string) error {
	return s.settle(ctx, "retry outbox", id, owner, `not_before = ?, last_error = ?`, []any{ms(notBefore), lastErr}, nil)
}

// GiveUpOutbox implements confab.OutboxStore.
func (s *Store) GiveUpOutbox(ctx context.Context, id int64, owner string, lastErr string) error {
	return s.settle(ctx, "give up outbox", id, owner, `dead = 1, last_error = ?`, []any{lastErr}, nil)
}

// InsertOutbox implements confab.OutboxStore.
func (s *Store) InsertOutbox(ctx context.Context, entries []*confab.OutboxEntry) error {
	const op = "insert outbox"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	for _, e := range entries {
		if err := enqueue(ctx, tx, e); err != nil {
			return err
		}
	}
	return mapErr(op, tx.Commit())
}

// ListOutboxEvents implements confab.OutboxStore.
func (s *Store) ListOutboxEvents(ctx context.Context, from time.Time, afterID int64, limit int) ([]*confab.OutboxEntry, error) {
	const op = "list outbox events"
	rows, err := s.read.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox
		WHERE channel = 'event' AND at >= ? AND id > ? ORDER BY id LIMIT ?`, ms(from), afterID, max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []*confab.OutboxEntry
	for rows.Next() {
		e, err := scanOutbox(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, e)
	}
	return out, mapErr(op, rows.Err())
}

// GetOutboxEntry implements confab.OutboxStore.
func (s *Store) GetOutboxEntry(ctx context.Context, id int64) (*confab.OutboxEntry, error) {
	const op = "get outbox entry"
	e, err := scanOutbox(s.read.QueryRowContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "outbox entry")
	}
	return e, mapErr(op, err)
}

// PurgeOutbox implements confab.OutboxStore.
func (s *Store) PurgeOutbox(ctx context.Context, before time.Time, limit int) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM outbox WHERE id IN
		(SELECT id FROM outbox WHERE (done = 1 OR dead = 1) AND at < ? ORDER BY id LIMIT ?)`, ms(before), max(limit, 0))
	if err != nil {
		return 0, mapErr("purge outbox", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr("purge outbox", err)
}

// InsertWebhook implements confab.WebhookStore.
func (s *Store) InsertWebhook(ctx context.Context, w *confab.Webhook) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO webhooks (webhook_id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?)`,
		w.WebhookID, w.URL, joinEvents(w.Events), w.Secret, ms(w.CreatedAt))
	return mapErr("insert webhook", err)
}

const webhookColumns = `webhook_id, url, events, secret, created_at, failures, disabled_at`

func scanWebhook(row scanner) (*confab.Webhook, error) {
	var w confab.Webhook
	var events string
	var created int64
	var disabled sql.NullInt64
	if err := row.Scan(&w.WebhookID, &w.URL, &events, &w.Secret, &created, &w.Failures, &disabled); err != nil {
		return nil, err
	}
	for _, e := range strings.Split(events, ",") {
		w.Events = append(w.Events, confab.OutboxEvent(e))
	}
	w.CreatedAt, w.DisabledAt = fromMS(created), fromNullMS(disabled)
	return &w, nil
}

func joinEvents(es []confab.OutboxEvent) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = string(e)
	}
	return strings.Join(s, ",")
}

// ListWebhooks implements confab.WebhookStore.
func (s *Store) ListWebhooks(ctx context.Context) ([]*confab.Webhook, error) {
	const op = "list webhooks"
	rows, err := s.read.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY webhook_id`)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []*confab.Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, w)
	}
	return out, mapErr(op, rows.Err())
}

// DeleteWebhook implements confab.WebhookStore.
func (s *Store) DeleteWebhook(ctx context.Context, webhookID string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM webhooks WHERE webhook_id = ?`, webhookID)
	if err != nil {
		return mapErr("delete webhook", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return notFound("delete webhook", "webhook")
	}
	return nil
}

// RecordWebhookResult implements confab.WebhookStore.
func (s *Store) RecordWebhookResult(ctx context.Context, webhookID string, ok bool, disableAfter int, at time.Time) (*confab.Webhook, error) {
	const op = "record webhook result"
	q := `UPDATE webhooks SET failures = 0 WHERE webhook_id = ?1 RETURNING ` + webhookColumns
	if !ok {
		q = `UPDATE webhooks SET failures = failures + 1,
			disabled_at = CASE WHEN disabled_at IS NULL AND failures + 1 >= ?2 THEN ?3 ELSE disabled_at END
			WHERE webhook_id = ?1 RETURNING ` + webhookColumns
	}
	w, err := scanWebhook(s.write.QueryRowContext(ctx, q, webhookID, disableAfter, ms(at)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "webhook")
	}
	return w, mapErr(op, err)
}

// EnableWebhook implements confab.WebhookStore.
func (s *Store) EnableWebhook(ctx context.Context, webhookID string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE webhooks SET failures = 0, disabled_at = NULL WHERE webhook_id = ?`, webhookID)
	if err != nil {
		return mapErr("enable webhook", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return notFound("enable webhook", "webhook")
	}
	return nil
}
