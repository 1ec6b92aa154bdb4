package dynamodb

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// Membership changes. Each is a change of the conversation (see
// commitChange): the membership items, the conversation's participants
// list (the recipe's; GetConversation reads the members through it) and
// updatedAt, and one MEMBER_* change and member.added or member.removed
// outbox event per member, in one transaction on the condition that the
// conversation's counters are those read.
//
// A transaction holds 100 items: the conversation's update and three per
// member (the membership, its change and its event), so membersPerTx
// members. A call
// about more (AddMembers takes up to MaxAddMembers) is several
// transactions, in order; each is whole, the call is not: a failure
// midway leaves the first members added (or updated), and a retry of the
// call skips them.
const membersPerTx = 33

// AddMembers implements confab.ConversationStore. The users are checked
// to exist (one consistent batch read) before anything is written; the
// members are then the participants whose membership item exists (one
// consistent batch read, keys only, in each transaction's build), so the
// limit counts members, not accounts deleted since.
func (s *Store) AddMembers(ctx context.Context, conversationID, byUserID string, members []confab.Member, maxMembers int,
	at time.Time) ([]confab.Member, *confab.Conversation, error) {
	const op = "add members"
	var pending []confab.Member
	keys := make([]item, 0, len(members))
	seen := map[string]bool{}
	for _, m := range members {
		if !seen[m.UserID] {
			seen[m.UserID] = true
			pending = append(pending, m)
			keys = append(keys, item{"userId": avS(m.UserID)})
		}
	}
	users, err := s.batchGet(ctx, op, s.t.users, keys, "userId")
	if err != nil {
		return nil, nil, err
	}
	if len(users) != len(keys) {
		return nil, nil, &confab.Error{Code: confab.CodeNotFound, Op: op, Err: notFound("user")}
	}
	var added []confab.Member
	for len(pending) > 0 {
		var took, rest []confab.Member
		err := s.commitChange(ctx, op, conversationID, func(t *changeTx) error {
			have, err := s.memberIDs(ctx, op, t.conv)
			if err != nil {
				return err
			}
			fresh := slices.DeleteFunc(slices.Clone(pending), func(m confab.Member) bool { return slices.Contains(have, m.UserID) })
			if len(have)+len(fresh) > maxMembers {
				return &confab.Error{Code: confab.CodeLimited, Op: op, Err: errTooMany}
			}
			took, rest = fresh[:min(len(fresh), membersPerTx)], fresh[min(len(fresh), membersPerTx):]
			if len(took) == 0 {
				return errNoChange
			}
			participants := slices.Clone(have)
			for _, m := range took {
				participants = append(participants, m.UserID)
				t.put(&s.t.confab, memberItem(conversationID, m), "")
				t.log(&confab.Change{ConversationID: conversationID, Kind: confab.ChangeMemberAdded, At: at, UserID: byUserID,
					MemberID: m.UserID, Member: &m})
				t.outbox(confab.NewMemberEvent(confab.OutboxMemberAdded, conversationID, m.UserID, m.Role, byUserID, at))
			}
			t.cu.set("participants", avList(participants)).set("updatedAt", avT(at))
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		added = append(added, took...)
		pending = rest
	}
	c, err := s.GetConversation(ctx, conversationID)
	if err != nil {
		return nil, nil, err
	}
	return added, c, nil
}

var errTooMany = errors.New("dynamodb: the conversation would have too many members")

// deleteIf is a transaction's Delete of the item k of table, on the
// condition that it exists.
func deleteIf(table string, k item) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: &table, Key: k, ConditionExpression: aws.String("attribute_exists(pk)")}}
}

// memberIDs returns the participants of the conversation item conv whose
// membership item exists, in the participants' order.
func (s *Store) memberIDs(ctx context.Context, op string, conv item) ([]string, error) {
	cid := getS(conv, "conversationId")
	participants := getList(conv, "participants")
	var keys []item
	seen := map[string]bool{}
	for _, p := range participants {
		if !seen[p] {
			seen[p] = true
			keys = append(keys, memberKey(cid, p))
		}
	}
	items, err := s.batchGet(ctx, op, s.t.confab, keys, "pk")
	if err != nil {
		return nil, err
	}
	exists := map[string]bool{}
	for _, it := range items {
		exists[strings.TrimPrefix(getS(it, "pk"), "user#")] = true
	}
	var ids []string
	for _, p := range participants {
		if exists[p] {
			ids = append(ids, p)
			delete(exists, p)
		}
	}
	return ids, nil
}

// RemoveMember implements confab.ConversationStore as one change: the
// membership (with its unread mentions) deleted, the user out of the
// participants, the MEMBER_REMOVED change, and the user's thread read
// marks of the conversation and push window deleted. Marks beyond what
// one transaction holds are deleted right after it (a failure there
// leaves marks nobody reads until the user is added again).
func (s *Store) RemoveMember(ctx context.Context, conversationID, userID, byUserID string, at time.Time) (*confab.Conversation, error) {
	const op = "remove member"
	var later []item
	err := s.commitChange(ctx, op, conversationID, func(t *changeTx) error {
		m, err := s.get(ctx, op, s.t.confab, memberKey(conversationID, userID))
		if err != nil {
			return err
		}
		if m == nil {
			return notFound("member")
		}
		marks, err := s.queryPartition(ctx, op, userPK(userID), "thread#"+conversationID+"\x00")
		if err != nil {
			return err
		}
		participants := slices.DeleteFunc(getList(t.conv, "participants"), func(p string) bool { return p == userID })
		t.cu.set("participants", avList(participants)).set("updatedAt", avT(at))
		t.log(&confab.Change{ConversationID: conversationID, Kind: confab.ChangeMemberRemoved, At: at, UserID: byUserID, MemberID: userID})
		t.outbox(confab.NewMemberEvent(confab.OutboxMemberRemoved, conversationID, userID, "", byUserID, at))
		t.items = append(t.items, deleteIf(s.t.confab, memberKey(conversationID, userID)))
		t.delete(s.t.confab, pushWindowKey(userID, conversationID))
		later = nil
		for _, mk := range marks {
			k := key(getS(mk, "pk"), getS(mk, "sk"))
			if len(t.items)+1 < maxBatchItems {
				t.delete(s.t.confab, k)
			} else {
				later = append(later, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.batchDelete(ctx, op, s.t.confab, later); err != nil {
		return nil, err
	}
	return s.GetConversation(ctx, conversationID)
}

// UpdateMembers implements confab.ConversationStore as one change: each
// member's role and mute, on the condition that the membership exists,
// with a MEMBER_UPDATED change each. More than membersPerTx members take
// several transactions; every membership is checked first, so a
// non-member fails the call before anything is written.
func (s *Store) UpdateMembers(ctx context.Context, conversationID, byUserID string, updates []confab.MemberUpdate, at time.Time) (*confab.Conversation, error) {
	const op = "update members"
	var order []string
	byUser := map[string][]confab.MemberUpdate{}
	for _, u := range updates {
		if byUser[u.UserID] == nil {
			order = append(order, u.UserID)
		}
		byUser[u.UserID] = append(byUser[u.UserID], u)
	}
	for chunk := range slices.Chunk(order, membersPerTx) {
		err := s.commitChange(ctx, op, conversationID, func(t *changeTx) error {
			keys := make([]item, len(order))
			for i, uid := range order {
				keys[i] = memberKey(conversationID, uid)
			}
			items, err := s.batchGet(ctx, op, s.t.confab, keys)
			if err != nil {
				return err
			}
			if len(items) != len(keys) {
				return notFound("member")
			}
			current := map[string]confab.Member{}
			for _, it := range items {
				uid := strings.TrimPrefix(getS(it, "pk"), "user#")
				current[uid] = readMember(uid, it)
			}
			t.cu.set("updatedAt", avT(at))
			for _, uid := range chunk {
				m := current[uid]
				m.UnreadMentions = 0
				u := newUpdate()
				role, mute := false, false
				for _, up := range byUser[uid] {
					role, mute = role || up.Role != nil, mute || up.MutedUntil != nil
					applyMemberUpdate(&m, up)
				}
				if role {
					u.set("role", avS(string(m.Role)))
				}
				if mute && m.MutedUntil == nil {
					u.remove("mutedUntil")
				} else if mute {
					u.set("mutedUntil", avT(*m.MutedUntil))
				}
				if role || mute {
					t.update(s.t.confab, memberKey(conversationID, uid), u, "attribute_exists(pk)")
				}
				t.log(&confab.Change{ConversationID: conversationID, Kind: confab.ChangeMemberUpdated, At: at, UserID: byUserID,
					MemberID: uid, Member: &m})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return s.GetConversation(ctx, conversationID)
}

// applyMemberUpdate applies up to m.
func applyMemberUpdate(m *confab.Member, up confab.MemberUpdate) {
	if up.Role != nil {
		m.Role = *up.Role
	}
	switch {
	case up.MutedUntil == nil:
	case up.MutedUntil.IsZero():
		m.MutedUntil = nil
	default:
		until := up.MutedUntil.UTC().Truncate(time.Millisecond)
		m.MutedUntil = &until
	}
}
