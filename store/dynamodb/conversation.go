package dynamodb

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// A membership is one item under the member's partition of the confab
// table, sk "conv#<conversationId>", holding joinedAt, lastReadSeq, and
// the role, mute and slow-mode time when set. The conversation item keeps
// the recipe's participants list (AddMembers and RemoveMember rewrite
// it); a conversation's members are the participants whose membership
// item exists (an account deleted since has none).
func memberKey(conversationID, userID string) item {
	return key(userPK(userID), "conv#"+conversationID)
}

func convKey(conversationID string) item { return item{"conversationId": avS(conversationID)} }

func readConversation(it item) *confab.Conversation {
	return &confab.Conversation{
		ConversationID: getS(it, "conversationId"), Name: getSP(it, "name"), CreatedBy: getS(it, "createdBy"),
		CreatedAt: getT(it, "createdAt"), UpdatedAt: getTP(it, "updatedAt"),
		LastMessage: getSP(it, "lastMessage"), LastMessageAt: getTP(it, "lastMessageAt"),
		MessageCount: int(getN(it, "messageCount")), LastSeq: getN(it, "lastSeq"), LastChangeSeq: getN(it, "lastChangeSeq"),
		Direct: getS(it, "directKey") != "", Settings: readSettings(it), ArchivedAt: getTP(it, "archivedAt"),
	}
}

// A conversation's settings are one map attribute, "settings", holding
// the roles that are not the default (addMembers, post, react) and a
// positive slowMode; absent (or empty) when all are defaults.
func avSettings(st confab.ConversationSettings) types.AttributeValue {
	m := item{}
	for k, r := range map[string]confab.Role{"addMembers": st.AddMembers, "post": st.Post, "react": st.React} {
		if r != "" {
			m[k] = avS(string(r))
		}
	}
	if st.SlowMode > 0 {
		m["slowMode"] = avN(int64(st.SlowMode))
	}
	return &types.AttributeValueMemberM{Value: m}
}

func readSettings(it item) confab.ConversationSettings {
	v, ok := it["settings"].(*types.AttributeValueMemberM)
	if !ok {
		return confab.ConversationSettings{}
	}
	m := v.Value
	return confab.ConversationSettings{AddMembers: confab.Role(getS(m, "addMembers")), Post: confab.Role(getS(m, "post")),
		React: confab.Role(getS(m, "react")), SlowMode: int(getN(m, "slowMode"))}
}

// gone reports whether the conversation item it is missing or being
// deleted (see DeleteConversation): either way, no conversation.
func gone(it item) bool { return it == nil || getB(it, "deleting") }

// directKey is the marker that makes a direct conversation unique per
// pair: put on attribute_not_exists with the conversation, it holds the
// conversation's id.
func directKey(userID, otherID string) item {
	return key("direct#"+confab.DirectKey(userID, otherID), "-")
}

// InsertConversation implements confab.ConversationStore. The members are
// checked to exist with a consistent batch read, then the conversation and
// its memberships and the conversation.created outbox event are written in
// one transaction (on attribute_not_exists). A conversation of more than 98
// members does not fit one transaction: its memberships go first, the
// conversation item and its event last, so that it is never seen without
// them.
func (s *Store) InsertConversation(ctx context.Context, c *confab.Conversation) error {
	const op = "insert conversation"
	keys := make([]item, 0, len(c.Members))
	seen := map[string]bool{}
	for _, m := range c.Members {
		if !seen[m.UserID] {
			seen[m.UserID] = true
			keys = append(keys, item{"userId": avS(m.UserID)})
		}
	}
	users, err := s.batchGet(ctx, op, s.t.users, keys)
	if err != nil {
		return err
	}
	if len(users) != len(keys) {
		return &confab.Error{Code: confab.CodeNotFound, Op: op, Err: notFound("member")}
	}
	conv := item{
		"conversationId": avS(c.ConversationID), "createdBy": avS(c.CreatedBy), "createdAt": avT(c.CreatedAt),
		"participants": avList(c.Participants()), "messageCount": avN(int64(c.MessageCount)), "lastSeq": avN(c.LastSeq),
	}
	putOpt(conv, "name", c.Name, avS)
	putOpt(conv, "updatedAt", c.UpdatedAt, avT)
	putOpt(conv, "lastMessage", c.LastMessage, avS)
	putOpt(conv, "lastMessageAt", c.LastMessageAt, avT)
	if c.Settings != (confab.ConversationSettings{}) {
		conv["settings"] = avSettings(c.Settings)
	}
	putOpt(conv, "archivedAt", c.ArchivedAt, avT)
	var tx []types.TransactWriteItem
	written := map[string]bool{} // a transaction may not write one item twice
	for _, m := range c.Members {
		if written[m.UserID] {
			continue
		}
		written[m.UserID] = true
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.t.confab, Item: memberItem(c.ConversationID, m)}})
	}
	if c.Direct && len(written) == 2 {
		pair := slices.Sorted(maps.Keys(written))
		conv["directKey"] = avS(confab.DirectKey(pair[0], pair[1]))
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.t.confab,
			Item: with(directKey(pair[0], pair[1]), item{"conversationId": avS(c.ConversationID)}), ConditionExpression: aws.String("attribute_not_exists(pk)")}})
	}
	tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.t.conversations, Item: conv,
		ConditionExpression: aws.String("attribute_not_exists(conversationId)")}},
		s.newOutboxPut(confab.NewConversationEvent(confab.OutboxConversationCreated, c, c.CreatedAt)))
	if len(tx) > maxBatchItems {
		if it, err := s.get(ctx, op, s.t.conversations, convKey(c.ConversationID)); err != nil || it != nil {
			return cmp.Or(err, conflict(op, "conversation exists"))
		}
	}
	for _, chunk := range insertChunks(tx) {
		err := s.transact(ctx, op, chunk)
		if slices.Contains(cancelReasons(err), "ConditionalCheckFailed") { // the conversation's put, or the direct marker
			return conflict(op, "conversation exists")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// insertChunks splits InsertConversation's items into transactions, the
// last two (the conversation and its conversation.created event)
// together in the last.
func insertChunks(tx []types.TransactWriteItem) [][]types.TransactWriteItem {
	if len(tx) <= maxBatchItems {
		return [][]types.TransactWriteItem{tx}
	}
	head, tail := tx[:len(tx)-2], tx[len(tx)-2:]
	return append(slices.Collect(slices.Chunk(head, maxBatchItems)), tail)
}

// GetConversation implements confab.ConversationStore.
func (s *Store) GetConversation(ctx context.Context, conversationID string) (*confab.Conversation, error) {
	const op = "get conversation"
	it, err := s.get(ctx, op, s.t.conversations, convKey(conversationID))
	if err != nil {
		return nil, err
	}
	if gone(it) {
		return nil, notFound("conversation")
	}
	return s.withMembers(ctx, op, it)
}

// GetDirectConversation implements confab.ConversationStore: the pair's
// marker, then the conversation.
func (s *Store) GetDirectConversation(ctx context.Context, userID, otherID string) (*confab.Conversation, error) {
	marker, err := s.get(ctx, "get direct conversation", s.t.confab, directKey(userID, otherID))
	if err != nil {
		return nil, err
	}
	if marker == nil {
		return nil, notFound("direct conversation")
	}
	return s.GetConversation(ctx, getS(marker, "conversationId"))
}

// withMembers reads the conversation item it and its memberships.
func (s *Store) withMembers(ctx context.Context, op string, it item) (*confab.Conversation, error) {
	c := readConversation(it)
	convs := []*confab.Conversation{c}
	if err := s.loadMembers(ctx, op, convs, []item{it}); err != nil {
		return nil, err
	}
	return c, nil
}

// loadMembers fills the Members of convs (read from items) from their
// participants' membership items, ordered by JoinedAt, then UserID.
func (s *Store) loadMembers(ctx context.Context, op string, convs []*confab.Conversation, items []item) error {
	byID := map[string]*confab.Conversation{}
	var keys []item
	for i, c := range convs {
		byID[c.ConversationID] = c
		for _, p := range slices.Compact(slices.Sorted(slices.Values(getList(items[i], "participants")))) {
			keys = append(keys, memberKey(c.ConversationID, p))
		}
	}
	ms, err := s.batchGet(ctx, op, s.t.confab, keys)
	if err != nil {
		return err
	}
	for _, m := range ms {
		uid := strings.TrimPrefix(getS(m, "pk"), "user#")
		c := byID[strings.TrimPrefix(getS(m, "sk"), "conv#")]
		c.Members = append(c.Members, readMember(uid, m))
	}
	for _, c := range convs {
		slices.SortFunc(c.Members, func(a, b confab.Member) int {
			return cmp.Or(a.JoinedAt.Compare(b.JoinedAt), strings.Compare(a.UserID, b.UserID))
		})
	}
	return nil
}

// memberItem is the membership item of m in the conversation.
func memberItem(conversationID string, m confab.Member) item {
	return with(memberKey(conversationID, m.UserID), memberAttrs(m))
}

// memberAttrs are the attributes of m's membership item (but mentions);
// a MEMBER_* change keeps them as its "member" map.
func memberAttrs(m confab.Member) item {
	it := item{"joinedAt": avT(m.JoinedAt), "lastReadSeq": avN(m.LastReadSeq)}
	putOpt(it, "lastReadAt", m.LastReadAt, avT)
	if m.Role != "" {
		it["role"] = avS(string(m.Role))
	}
	putOpt(it, "mutedUntil", m.MutedUntil, avT)
	putOpt(it, "lastPostedAt", m.LastPostedAt, avT)
	return it
}

// readMember reads the membership item m of user uid. Its mentions are
// the seqs of the live messages that mention the member, unread when
// above lastReadSeq (MarkRead drops the others).
func readMember(uid string, m item) confab.Member {
	mem := confab.Member{UserID: uid, JoinedAt: getT(m, "joinedAt"), LastReadSeq: getN(m, "lastReadSeq"), LastReadAt: getTP(m, "lastReadAt"),
		Role: confab.Role(getS(m, "role")), MutedUntil: getTP(m, "mutedUntil"), LastPostedAt: getTP(m, "lastPostedAt")}
	for _, seq := range getNS(m, "mentions") {
		if seq > mem.LastReadSeq {
			mem.UnreadMentions++
		}
	}
	return mem
}

// UpdateConversation implements confab.ConversationStore as one change
// (see commitChange): the name, settings, archivedAt and updatedAt, with
// the CONVERSATION_UPDATED change by userID and the conversation.updated
// outbox event.
func (s *Store) UpdateConversation(ctx context.Context, conversationID, userID string, u confab.ConversationUpdate, at time.Time) (*confab.Conversation, error) {
	const op = "update conversation"
	err := s.commitChange(ctx, op, conversationID, func(t *changeTx) error {
		t.cu.set("updatedAt", avT(at))
		if u.Name != nil {
			t.cu.set("name", avS(*u.Name))
		}
		if u.Settings != nil {
			t.cu.set("settings", avSettings(*u.Settings))
		}
		switch {
		case u.Archived == nil:
		case *u.Archived:
			t.cu.set("archivedAt", avT(at))
		default:
			t.cu.remove("archivedAt")
		}
		t.log(&confab.Change{ConversationID: conversationID, Kind: confab.ChangeConversationUpdated, At: at, UserID: userID})
		t.outbox(confab.NewConversationEvent(confab.OutboxConversationUpdated, updated(t.conv, u, at), at))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetConversation(ctx, conversationID)
}

// updated is the conversation item conv as u changes it at at, with its
// participants as members: the conversation.updated event's data.
func updated(conv item, u confab.ConversationUpdate, at time.Time) *confab.Conversation {
	c := readConversation(conv)
	c.UpdatedAt = &at
	if u.Name != nil {
		c.Name = u.Name
	}
	for _, id := range getList(conv, "participants") {
		c.Members = append(c.Members, confab.Member{UserID: id})
	}
	return c
}

// ListConversations implements confab.ConversationStore. The user's
// memberships come from one consistent query of its partition, their
// conversations from consistent batch reads; they are ordered by activity
// in memory. The cost is the user's number of conversations, not the page
// size: ordering by activity in an index would rewrite every member's
// index entry at every message.
func (s *Store) ListConversations(ctx context.Context, userID string, p confab.ConversationPage) ([]*confab.Conversation, error) {
	const op = "list conversations"
	if p.Limit <= 0 {
		return nil, nil
	}
	refs, err := s.queryPartition(ctx, op, userPK(userID), "conv#")
	if err != nil {
		return nil, err
	}
	keys := make([]item, len(refs))
	for i, r := range refs {
		keys[i] = convKey(strings.TrimPrefix(getS(r, "sk"), "conv#"))
	}
	items, err := s.batchGet(ctx, op, s.t.conversations, keys)
	if err != nil {
		return nil, err
	}
	type entry struct {
		c  *confab.Conversation
		it item
	}
	var list []entry
	for _, it := range items {
		if gone(it) {
			continue
		}
		c := readConversation(it)
		if a := p.After; a != nil {
			at := c.ActivityAt()
			if !(at.Before(a.ActivityAt) || at.Equal(a.ActivityAt) && c.ConversationID > a.ConversationID) {
				continue
			}
		}
		list = append(list, entry{c, it})
	}
	slices.SortFunc(list, func(a, b entry) int {
		return cmp.Or(b.c.ActivityAt().Compare(a.c.ActivityAt()), strings.Compare(a.c.ConversationID, b.c.ConversationID))
	})
	list = list[:min(len(list), p.Limit)]
	convs := make([]*confab.Conversation, len(list))
	its := make([]item, len(list))
	for i, e := range list {
		convs[i], its[i] = e.c, e.it
	}
	if err := s.loadMembers(ctx, op, convs, its); err != nil {
		return nil, err
	}
	return convs, nil
}

// ListConversationIDs implements confab.ConversationStore: one consistent
// query of the user's memberships, in conversation id order.
func (s *Store) ListConversationIDs(ctx context.Context, userID string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	in := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true), Limit: aws.Int32(int32(min(limit, 1000))),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: item{":pk": avS(userPK(userID)), ":p": avS("conv#")}}
	var ids []string
	p := ddb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() && len(ids) < limit {
		var out *ddb.QueryOutput
		err := s.retry(ctx, "list conversation ids", func() error {
			var err error
			out, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			ids = append(ids, strings.TrimPrefix(getS(it, "sk"), "conv#"))
		}
	}
	return ids[:min(len(ids), limit)], nil
}

// MarkRead implements confab.ConversationStore: lastReadSeq and
// lastReadAt are set on the condition that lastReadSeq is lower, so the
// mark never goes down; then the mentions at or below it, now read, are
// dropped from the membership (unread mentions count only those above
// the mark, so a drop that fails or races changes no count).
func (s *Store) MarkRead(ctx context.Context, conversationID, userID string, seq int64, at time.Time) error {
	const op = "mark read"
	u := newUpdate().set("lastReadSeq", avN(seq)).set("lastReadAt", avT(at))
	in := u.input(s.t.confab, memberKey(conversationID, userID), "attribute_exists(pk) AND "+u.name("lastReadSeq")+" < "+u.value(avN(seq)))
	in.ReturnValues = types.ReturnValueAllNew
	var out *ddb.UpdateItemOutput
	err := s.retry(ctx, op, func() error { var err error; out, err = s.db.UpdateItem(ctx, in); return err })
	if err == nil {
		return s.dropReadMentions(ctx, op, out.Attributes, seq)
	}
	if !isConditionFailed(err) {
		return err
	}
	it, err := s.get(ctx, op, s.t.confab, memberKey(conversationID, userID))
	if err != nil {
		return err
	}
	if it == nil {
		return notFound("membership")
	}
	return nil // already at or past seq
}

// dropReadMentions removes from the membership m the mentions at or below
// seq.
func (s *Store) dropReadMentions(ctx context.Context, op string, m item, seq int64) error {
	var read []int64
	for _, n := range getNS(m, "mentions") {
		if n <= seq {
			read = append(read, n)
		}
	}
	if len(read) == 0 {
		return nil
	}
	in := newUpdate().deleteSet("mentions", read).input(s.t.confab, key(getS(m, "pk"), getS(m, "sk")), "attribute_exists(pk)")
	err := s.retry(ctx, op, func() error { _, err := s.db.UpdateItem(ctx, in); return err })
	if isConditionFailed(err) {
		return nil // the membership went meanwhile
	}
	return err
}
