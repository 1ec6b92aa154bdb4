package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/confab-chat/confab"
)

// memberSnapshot is the membership a MEMBER_ADDED or MEMBER_UPDATED change
// keeps (changes.member, JSON): the member's own fields right after the
// change, times in Unix milliseconds.
type memberSnapshot struct {
	Role       confab.Role `json:"role,omitempty"`
	JoinedAt   int64       `json:"joinedAt"`
	MutedUntil *int64      `json:"mutedUntil,omitempty"`
}

func encodeMember(m *confab.Member) sql.NullString {
	if m == nil {
		return sql.NullString{}
	}
	snap := memberSnapshot{Role: m.Role, JoinedAt: ms(m.JoinedAt)}
	if m.MutedUntil != nil {
		v := ms(*m.MutedUntil)
		snap.MutedUntil = &v
	}
	b, err := json.Marshal(snap)
	if err != nil { // a struct of strings and numbers always marshals
		panic(err)
	}
	return sql.NullString{String: string(b), Valid: true}
}

func decodeMember(userID string, v sql.NullString) (*confab.Member, error) {
	if !v.Valid {
		return nil, nil
	}
	var snap memberSnapshot
	if err := json.Unmarshal([]byte(v.String), &snap); err != nil {
		return nil, fmt.Errorf("membership %q: %w", v.String, err)
	}
	m := &confab.Member{UserID: userID, Role: snap.Role, JoinedAt: fromMS(snap.JoinedAt)}
	if snap.MutedUntil != nil {
		t := fromMS(*snap.MutedUntil)
		m.MutedUntil = &t
	}
	return m, nil
}

// memberChange appends a MEMBER_* change of kind about member userID
// (with its membership m, nil for MEMBER_REMOVED) in tx.
func memberChange(ctx context.Context, tx *sql.Tx, kind confab.ChangeKind, conversationID, byUserID, userID string, m *confab.Member, at time.Time) error {
	_, err := appendChange(ctx, tx, &confab.Change{ConversationID: conversationID, Kind: kind, At: at, UserID: byUserID, MemberID: userID, Member: m})
	return err
}

// touch sets the conversation's UpdatedAt in tx; CodeNotFound when it
// does not exist.
func touch(ctx context.Context, tx *sql.Tx, op, conversationID string, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE conversations SET updated_at = ? WHERE conversation_id = ?`, ms(at), conversationID)
	if err != nil {
		return mapErr(op, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return notFound(op, "conversation")
	}
	return nil
}

// commitConversation reads the conversation in tx, commits, and returns it.
func commitConversation(ctx context.Context, tx *sql.Tx, op, conversationID string) (*confab.Conversation, error) {
	c, err := getConversation(ctx, tx, conversationID)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, mapErr(op, err)
	}
	return c, nil
}

// AddMembers implements confab.ConversationStore: one transaction that
// counts the members, leaves out those already in (or listed twice),
// refuses the lot past maxMembers, then adds each with its change and
// member.added event.
func (s *Store) AddMembers(ctx context.Context, conversationID, byUserID string, members []confab.Member, maxMembers int, at time.Time) ([]confab.Member, *confab.Conversation, error) {
	const op = "add members"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, mapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	var exists bool
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE conversation_id = ?1),
			(SELECT count(*) FROM members WHERE conversation_id = ?1)`, conversationID).Scan(&exists, &count); err != nil {
		return nil, nil, mapErr(op, err)
	}
	if !exists {
		return nil, nil, notFound(op, "conversation")
	}
	in := map[string]bool{}
	var added []confab.Member
	for _, m := range members {
		if in[m.UserID] {
			continue
		}
		in[m.UserID] = true
		var member bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM members WHERE conversation_id = ? AND user_id = ?)`, conversationID, m.UserID).Scan(&member); err != nil {
			return nil, nil, mapErr(op, err)
		}
		if !member {
			added = append(added, m)
		}
	}
	if count+len(added) > maxMembers {
		return nil, nil, &confab.Error{Code: confab.CodeLimited, Op: "sqlite: " + op, Err: fmt.Errorf("%d members and %d more is over %d", count, len(added), maxMembers)}
	}
	if len(added) == 0 {
		c, err := commitConversation(ctx, tx, op, conversationID)
		return nil, c, err
	}
	for i := range added {
		m := &added[i]
		if err := insertMember(ctx, tx, op, conversationID, m); err != nil {
			return nil, nil, err
		}
		if err := memberChange(ctx, tx, confab.ChangeMemberAdded, conversationID, byUserID, m.UserID, m, at); err != nil {
			return nil, nil, err
		}
		if err := enqueue(ctx, tx, confab.NewMemberEvent(confab.OutboxMemberAdded, conversationID, m.UserID, m.Role, byUserID, at)); err != nil {
			return nil, nil, err
		}
	}
	if err := touch(ctx, tx, op, conversationID, at); err != nil {
		return nil, nil, err
	}
	c, err := commitConversation(ctx, tx, op, conversationID)
	if err != nil {
		return nil, nil, err
	}
	return added, c, nil
}

// RemoveMember implements confab.ConversationStore. The member's thread
// marks and push window of the conversation go with the membership (its
// read mark is a column of it).
func (s *Store) RemoveMember(ctx context.Context, conversationID, userID, byUserID string, at time.Time) (*confab.Conversation, error) {
	const op = "remove member"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	res, err := tx.ExecContext(ctx, `DELETE FROM members WHERE conversation_id = ? AND user_id = ?`, conversationID, userID)
	if err != nil {
		return nil, mapErr(op, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return nil, notFound(op, "membership")
	}
	for _, q := range []string{
		`DELETE FROM thread_reads WHERE conversation_id = ? AND user_id = ?`,
		`DELETE FROM push_windows WHERE conversation_id = ? AND user_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, conversationID, userID); err != nil {
			return nil, mapErr(op, err)
		}
	}
	if err := memberChange(ctx, tx, confab.ChangeMemberRemoved, conversationID, byUserID, userID, nil, at); err != nil {
		return nil, err
	}
	if err := enqueue(ctx, tx, confab.NewMemberEvent(confab.OutboxMemberRemoved, conversationID, userID, "", byUserID, at)); err != nil {
		return nil, err
	}
	if err := touch(ctx, tx, op, conversationID, at); err != nil {
		return nil, err
	}
	return commitConversation(ctx, tx, op, conversationID)
}

// UpdateMembers implements confab.ConversationStore: each update in turn
// in one transaction, rolled back whole when one is not a member. An
// update with no field set changes nothing and appends no change.
func (s *Store) UpdateMembers(ctx context.Context, conversationID, byUserID string, updates []confab.MemberUpdate, at time.Time) (*confab.Conversation, error) {
	const op = "update members"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer tx.Rollback() // a no-op after Commit; any failure is returned below
	changed := false
	for _, u := range updates {
		var role sql.NullString
		if u.Role != nil {
			role = sql.NullString{String: string(*u.Role), Valid: true}
		}
		var muted sql.NullInt64
		if u.MutedUntil != nil && !u.MutedUntil.IsZero() {
			muted = sql.NullInt64{Int64: ms(*u.MutedUntil), Valid: true}
		}
		var joined int64
		var gotRole string
		var gotMuted sql.NullInt64
		err := tx.QueryRowContext(ctx, `UPDATE members SET role = coalesce(?1, role), muted_until = CASE WHEN ?2 THEN ?3 ELSE muted_until END
			WHERE conversation_id = ?4 AND user_id = ?5 RETURNING joined_at, role, muted_until`,
			role, u.MutedUntil != nil, muted, conversationID, u.UserID).Scan(&joined, &gotRole, &gotMuted)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound(op, "membership")
		}
		if err != nil {
			return nil, mapErr(op, err)
		}
		if u.Role == nil && u.MutedUntil == nil {
			continue
		}
		m := &confab.Member{UserID: u.UserID, JoinedAt: fromMS(joined), Role: confab.Role(gotRole), MutedUntil: fromNullMS(gotMuted)}
		if err := memberChange(ctx, tx, confab.ChangeMemberUpdated, conversationID, byUserID, u.UserID, m, at); err != nil {
			return nil, err
		}
		changed = true
	}
	if changed {
		if err := touch(ctx, tx, op, conversationID, at); err != nil {
			return nil, err
		}
	}
	return commitConversation(ctx, tx, op, conversationID)
}

// SharesConversation implements confab.ModerationStore on members_by_user.
func (s *Store) SharesConversation(ctx context.Context, userID, otherID string) (bool, error) {
	var shares bool
	err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM members a JOIN members b ON b.conversation_id = a.conversation_id AND b.user_id = ?2
		WHERE a.user_id = ?1)`, userID, otherID).Scan(&shares)
	return shares, mapErr("shares conversation", err)
}
