package dynamodb

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/confab-chat/confab"
)

// An earlier version of a message is an item of the message's partition
// (msgPK), sk "edit#" and the ChangeSeq of the edit that replaced it, so
// that the versions list newest first by one Query.
func editKey(conversationID, messageID string, changeSeq int64) item {
	return key(msgPK(conversationID, messageID), "edit#"+seqKey(changeSeq))
}

// EditMessage implements confab.MessageStore as one change (see
// commitChange): the message's new content, the version it replaces, the
// MESSAGE_EDITED change, the message.edited outbox event and, when it is the newest live message, the
// conversation's preview. Search reads the content itself, so it follows.
func (s *Store) EditMessage(ctx context.Context, conversationID, messageID, content string, at time.Time) (*confab.Message, error) {
	const op = "edit message"
	var m *confab.Message
	err := s.commitChange(ctx, op, conversationID, func(t *changeTx) error {
		var err error
		if m, err = s.GetMessage(ctx, conversationID, messageID); err != nil {
			return err
		}
		written := m.CreatedAt
		if m.EditedAt != nil {
			written = *m.EditedAt
		}
		m.ChangeSeq = t.log(&confab.Change{ConversationID: conversationID, Kind: confab.ChangeMessageEdited, At: at,
			UserID: m.UserID, MessageID: messageID})
		t.put(&s.t.confab, with(editKey(conversationID, messageID, m.ChangeSeq),
			item{"content": avS(m.Content), "at": avT(written), "replacedAt": avT(at)}), "")
		u := newUpdate().set("content", avS(content)).set("editedAt", avT(at)).set("updatedAt", avT(at)).
			set("changeSeq", avN(m.ChangeSeq))
		t.update(s.t.messages, msgKey(conversationID, messageID), u, isLive(u))
		newest := m
		if m.Seq != t.at.seq {
			if newest, err = s.newestLive(ctx, op, t.conv, nil); err != nil {
				return err
			}
		}
		if newest != nil && newest.MessageID == messageID {
			t.cu.set("lastMessage", avS(confab.Preview(content)))
		}
		at := at.UTC().Truncate(time.Millisecond)
		m.Content, m.EditedAt, m.UpdatedAt = content, &at, &at
		t.outbox(confab.NewMessageEvent(confab.OutboxMessageEdited, m, at))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ListMessageEdits implements confab.MessageStore: one consistent Query
// of the message's partition, newest first.
func (s *Store) ListMessageEdits(ctx context.Context, conversationID, messageID string, limit int) ([]*confab.MessageEdit, error) {
	const op = "list message edits"
	if limit <= 0 {
		return nil, nil
	}
	in := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true), ScanIndexForward: aws.Bool(false),
		Limit:                     aws.Int32(int32(min(limit, 1000))),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: item{":pk": avS(msgPK(conversationID, messageID)), ":p": avS("edit#")}}
	var edits []*confab.MessageEdit
	p := ddb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() && len(edits) < limit {
		var out *ddb.QueryOutput
		if err := s.retry(ctx, op, func() error { var err error; out, err = p.NextPage(ctx); return err }); err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			edits = append(edits, &confab.MessageEdit{Content: getS(it, "content"), At: getT(it, "at"), ReplacedAt: getT(it, "replacedAt")})
		}
	}
	return edits[:min(len(edits), limit)], nil
}
