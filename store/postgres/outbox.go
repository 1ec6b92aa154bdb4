package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

var _ confab.OutboxStore = (*Store)(nil)

const outboxColumns = `id, channel, target, event_id, event, conversation_id, at, data, attempts, not_before, owner, lease_until, last_error, done, dead`

// enqueue writes e in q, the transaction of the change that causes it,
// and assigns its ID.
func enqueue(ctx context.Context, q querier, e *confab.OutboxEntry) error {
	err := q.QueryRow(ctx, `INSERT INTO outbox (channel, target, event_id, event, conversation_id, at, data, not_before)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		e.Channel, e.Target, e.EventID, string(e.Event), e.ConversationID, dbTime(e.At), string(e.Data), dbTime(e.NotBefore)).Scan(&e.ID)
	return mapErr("enqueue outbox", err)
}

func scanOutbox(row pgx.Row) (*confab.OutboxEntry, error) {
	var e confab.OutboxEntry
	var event, data string
	if err := row.Scan(&e.ID, &e.Channel, &e.Target, &e.EventID, &event, &e.ConversationID, &e.At, &data, &e.Attempts,
		&e.NotBefore, &e.Owner, &e.LeaseUntil, &e.LastError, &e.Done, &e.Dead); err != nil {
		return nil, err
	}
	if e.EventID == 0 {
		e.EventID = e.ID
	}
	e.Event, e.Data = confab.OutboxEvent(event), []byte(data)
	e.At, e.NotBefore, e.LeaseUntil = e.At.UTC(), e.NotBefore.UTC(), e.LeaseUntil.UTC()
	if e.Owner == "" {
		e.LeaseUntil = time.Time{}
	}
	return &e, nil
}

func collectOutbox(rows pgx.Rows, op string) ([]*confab.OutboxEntry, error) {
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

// ClaimOutbox implements confab.OutboxStore: FOR UPDATE SKIP LOCKED picks
// rows no concurrent claim holds, so nodes claiming at once never wait
// for each other nor take the same row; the lease keeps the rows theirs
// after the claim commits.
func (s *Store) ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*confab.OutboxEntry, error) {
	const op = "claim outbox"
	rows, err := s.pool.Query(ctx, `WITH c AS (
			SELECT id FROM outbox WHERE NOT done AND NOT dead AND not_before <= $3 AND lease_until < $3
			ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
		UPDATE outbox o SET owner = $1, lease_until = $2, attempts = o.attempts + 1 FROM c WHERE o.id = c.id
		RETURNING `+prefixed("o.", outboxColumns), owner, dbTime(now.Add(lease)), dbTime(now), max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	out, err := collectOutbox(rows, op)
	if err != nil {
		return nil, err
	}
	// RETURNING gives no order; callers deliver oldest first.
	slices.SortFunc(out, func(a, b *confab.OutboxEntry) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// prefixed qualifies each of the comma-separated columns with p.
func prefixed(p, columns string) string {
	cs := strings.Split(columns, ", ")
	for i := range cs {
		cs[i] = p + cs[i]
	}
	return strings.Join(cs, ", ")
}

// settle applies set to the entry and releases its lease when owner holds
// it, and inserts next, in one transaction; CodeConflict when the lease
// is lost.
func (s *Store) settle(ctx context.Context, op string, id int64, owner, set string, args []any, next []*confab.OutboxEntry) error {
	return s.inTx(ctx, op, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE outbox SET `+set+`, owner = '', lease_until = 'epoch'
			WHERE id = $1 AND owner = $2 AND NOT done AND NOT dead`, append([]any{id, owner}, args...)...)
		if err != nil {
			return mapErr(op, err)
		}
		if tag.RowsAffected() != 1 {
			return &confab.Error{Code: confab.CodeConflict, Op: op, Err: errors.New("postgres: outbox lease lost")}
		}
		for _, e := range next {
			if err := enqueue(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// CompleteOutbox implements confab.OutboxStore.
func (s *Store) CompleteOutbox(ctx context.Context, id int64, owner string, next []*confab.OutboxEntry) error {
	return s.settle(ctx, "complete outbox", id, owner, `done = true`, nil, next)
}

// RetryOutbox implements confab.OutboxStore.
func (s *Store) RetryOutbox(ctx context.Context, id int64, owner string, notBefore time.Time, lastErr string) error {
	return s.settle(ctx, "retry outbox", id, owner, `not_before = $3, last_error = $4`, []any{dbTime(notBefore), lastErr}, nil)
}

// GiveUpOutbox implements confab.OutboxStore.
func (s *Store) GiveUpOutbox(ctx context.Context, id int64, owner string, lastErr string) error {
	return s.settle(ctx, "give up outbox", id, owner, `dead = true, last_error = $3`, []any{lastErr}, nil)
}

// InsertOutbox implements confab.OutboxStore.
func (s *Store) InsertOutbox(ctx context.Context, entries []*confab.OutboxEntry) error {
	return s.inTx(ctx, "insert outbox", func(tx pgx.Tx) error {
		for _, e := range entries {
			if err := enqueue(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListOutboxEvents implements confab.OutboxStore.
func (s *Store) ListOutboxEvents(ctx context.Context, from time.Time, afterID int64, limit int) ([]*confab.OutboxEntry, error) {
	const op = "list outbox events"
	rows, err := s.pool.Query(ctx, `SELECT `+outboxColumns+` FROM outbox
		WHERE channel = 'event' AND at >= $1 AND id > $2 ORDER BY id LIMIT $3`, dbTime(from), afterID, max(limit, 0))
	if err != nil {
		return nil, mapErr(op, err)
	}
	return collectOutbox(rows, op)
}

// GetOutboxEntry implements confab.OutboxStore.
func (s *Store) GetOutboxEntry(ctx context.Context, id int64) (*confab.OutboxEntry, error) {
	e, err := scanOutbox(s.pool.QueryRow(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("outbox entry")
	}
	return e, mapErr("get outbox entry", err)
}

// PurgeOutbox implements confab.OutboxStore.
func (s *Store) PurgeOutbox(ctx context.Context, before time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM outbox WHERE id IN
		(SELECT id FROM outbox WHERE (done OR dead) AND at < $1 ORDER BY id LIMIT $2)`, dbTime(before), max(limit, 0))
	if err != nil {
		return 0, mapErr("purge outbox", err)
	}
	return int(tag.RowsAffected()), nil
}

const webhookColumns = `webhook_id, url, events, secret, created_at, failures, disabled_at`

func scanWebhook(row pgx.Row) (*confab.Webhook, error) {
	var w confab.Webhook
	var events []string
	if err := row.Scan(&w.WebhookID, &w.URL, &events, &w.Secret, &w.CreatedAt, &w.Failures, &w.DisabledAt); err != nil {
		return nil, err
	}
	for _, e := range events {
		w.Events = append(w.Events, confab.OutboxEvent(e))
	}
	w.CreatedAt, w.DisabledAt = w.CreatedAt.UTC(), utcPtr(w.DisabledAt)
	return &w, nil
}

// InsertWebhook implements confab.WebhookStore.
func (s *Store) InsertWebhook(ctx context.Context, w *confab.Webhook) error {
	events := make([]string, len(w.Events))
	for i, e := range w.Events {
		events[i] = string(e)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO webhooks (webhook_id, url, events, secret, created_at) VALUES ($1, $2, $3, $4, $5)`,
		w.WebhookID, w.URL, events, w.Secret, dbTime(w.CreatedAt))
	return mapErr("insert webhook", err)
}

// ListWebhooks implements confab.WebhookStore.
func (s *Store) ListWebhooks(ctx context.Context) ([]*confab.Webhook, error) {
	const op = "list webhooks"
	rows, err := s.pool.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY webhook_id`)
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
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhooks WHERE webhook_id = $1`, webhookID)
	if err != nil {
		return mapErr("delete webhook", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("webhook")
	}
	return nil
}

// RecordWebhookResult implements confab.WebhookStore.
func (s *Store) RecordWebhookResult(ctx context.Context, webhookID string, ok bool, disableAfter int, at time.Time) (*confab.Webhook, error) {
	q, args := `UPDATE webhooks SET failures = 0 WHERE webhook_id = $1 RETURNING `+webhookColumns, []any{webhookID}
	if !ok {
		q = `UPDATE webhooks SET failures = failures + 1,
			disabled_at = CASE WHEN disabled_at IS NULL AND failures + 1 >= $2 THEN $3 ELSE disabled_at END
			WHERE webhook_id = $1 RETURNING ` + webhookColumns
		args = append(args, disableAfter, dbTime(at))
	}
	w, err := scanWebhook(s.pool.QueryRow(ctx, q, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("webhook")
	}
	return w, mapErr("record webhook result", err)
}

// EnableWebhook implements confab.WebhookStore.
func (s *Store) EnableWebhook(ctx context.Context, webhookID string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE webhooks SET failures = 0, disabled_at = NULL WHERE webhook_id = $1`, webhookID)
	if err != nil {
		return mapErr("enable webhook", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("webhook")
	}
	return nil
}
