package postgres

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// Usage implements confab.ModerationStore: four statements in one batch
// (one round trip), the three over messages each a range of the
// messages_created_at index. Days and weeks are computed in UTC
// (AT TIME ZONE 'UTC', whatever the session's TimeZone); generate_series
// gives every day (every ISO week: date_trunc('week') is its Monday) of
// the span, so days without messages come out as zeros.
func (s *Store) Usage(ctx context.Context, from, to time.Time, top int) (*confab.Usage, error) {
	const op = "usage"
	from, to = dbTime(from), dbTime(to)
	u := &confab.Usage{From: from, To: to}
	var b pgx.Batch
	b.Queue(`SELECT d.day AT TIME ZONE 'UTC', coalesce(a.n, 0), coalesce(a.u, 0)
		FROM generate_series($1::timestamptz AT TIME ZONE 'UTC', $2::timestamptz AT TIME ZONE 'UTC' - interval '1 day', interval '1 day') AS d (day)
		LEFT JOIN (SELECT date_trunc('day', created_at AT TIME ZONE 'UTC') AS day, count(*) AS n, count(DISTINCT user_id) AS u
			FROM messages WHERE created_at >= $1 AND created_at < $2 GROUP BY 1) AS a ON a.day = d.day
		ORDER BY d.day`, from, to).Query(func(rows pgx.Rows) error {
		var day time.Time
		var n, users int
		_, err := pgx.ForEachRow(rows, []any{&day, &n, &users}, func() error {
			u.MessagesPerDay = append(u.MessagesPerDay, confab.DayCount{Day: day.UTC(), Count: n})
			u.ActiveUsersPerDay = append(u.ActiveUsersPerDay, confab.DayCount{Day: day.UTC(), Count: users})
			return nil
		})
		return err
	})
	b.Queue(`SELECT w.week AT TIME ZONE 'UTC', coalesce(a.u, 0)
		FROM generate_series(date_trunc('week', $1::timestamptz AT TIME ZONE 'UTC'), $2::timestamptz AT TIME ZONE 'UTC' - interval '1 day', interval '1 week') AS w (week)
		LEFT JOIN (SELECT date_trunc('week', created_at AT TIME ZONE 'UTC') AS week, count(DISTINCT user_id) AS u
			FROM messages WHERE created_at >= $1 AND created_at < $2 GROUP BY 1) AS a ON a.week = w.week
		ORDER BY w.week`, from, to).Query(func(rows pgx.Rows) error {
		var week time.Time
		var users int
		_, err := pgx.ForEachRow(rows, []any{&week, &users}, func() error {
			u.ActiveUsersPerWeek = append(u.ActiveUsersPerWeek, confab.DayCount{Day: week.UTC(), Count: users})
			return nil
		})
		return err
	})
	b.Queue(`SELECT conversation_id, count(*) FROM messages WHERE created_at >= $1 AND created_at < $2
		GROUP BY conversation_id ORDER BY count(*) DESC, conversation_id LIMIT $3`, from, to, max(top, 0)).Query(func(rows pgx.Rows) error {
		var c confab.ConversationCount
		_, err := pgx.ForEachRow(rows, []any{&c.ConversationID, &c.Messages}, func() error {
			u.TopConversations = append(u.TopConversations, c)
			return nil
		})
		return err
	})
	b.Queue(`SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM conversations),
		(SELECT coalesce(sum(size), 0)::bigint FROM uploads WHERE message_id IS NOT NULL)`).QueryRow(func(row pgx.Row) error {
		return row.Scan(&u.Users, &u.Conversations, &u.StorageBytes)
	})
	if err := s.pool.SendBatch(ctx, &b).Close(); err != nil {
		return nil, mapErr(op, err)
	}
	return u, nil
}
