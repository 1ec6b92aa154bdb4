package dynamodb

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

var _ confab.UploadStore = (*Store)(nil)

// maxAttachIDs bounds the uploads of one AttachUploads: three writes each
// and the message's reference must fit DynamoDB's 100 items a
// transaction (chat allows far fewer, chat.MaxAttachments).
const maxAttachIDs = 33

// Upload items (see doc.go, "Uploads").
func uploadKey(id string) item                     { return key("upload#"+id, "-") }
func convUploadPK(conversationID string) string    { return "convup#" + conversationID }
func convUploadKey(conversationID, id string) item { return key(convUploadPK(conversationID), "u#"+id) }
func linkPrefix(messageID string) string           { return "m#" + messageID + "\x00" }
func linkKey(conversationID, messageID, id string) item {
	return key(convUploadPK(conversationID), linkPrefix(messageID)+id)
}
func messageUploadsKey(messageID string) item { return key("msgup#"+messageID, "-") }
func quotaKey(u *confab.Upload) item {
	return key("userup#"+u.UserID, timeKey(u.CreatedAt)+"\x00"+u.UploadID)
}
func deadKey(id string) item { return key("updead", id) }

// expiryKey is the upload's entry among the unattached ones, in one of
// ageShards partitions by upload id, so that many uploads a second do
// not all write one partition.
func expiryKey(u *confab.Upload) item {
	h := fnv.New32a()
	h.Write([]byte(u.UploadID))
	return key(fmt.Sprintf("upexp#%02d", h.Sum32()%ageShards), timeKey(u.ExpiresAt)+"\x00"+u.UploadID)
}

func timeKey(t time.Time) string { return t.UTC().Truncate(time.Millisecond).Format(timeLayout) }

func uploadAttrs(u *confab.Upload) item {
	it := item{"uploadId": avS(u.UploadID), "userId": avS(u.UserID), "conversationId": avS(u.ConversationID),
		"fileName": avS(u.FileName), "contentType": avS(u.ContentType), "size": avN(u.Size),
		"createdAt": avT(u.CreatedAt), "expiresAt": avT(u.ExpiresAt), "ready": avB(u.Ready),
		"width": avN(int64(u.Width)), "height": avN(int64(u.Height)), "thumbType": avS(u.ThumbType)}
	if u.MessageID != "" {
		it["messageId"] = avS(u.MessageID)
	}
	return it
}

func readUpload(it item) *confab.Upload {
	return &confab.Upload{UploadID: getS(it, "uploadId"), UserID: getS(it, "userId"), ConversationID: getS(it, "conversationId"),
		FileName: getS(it, "fileName"), ContentType: getS(it, "contentType"), Size: getN(it, "size"),
		CreatedAt: getT(it, "createdAt"), ExpiresAt: getT(it, "expiresAt"), Ready: getB(it, "ready"),
		Width: int(getN(it, "width")), Height: int(getN(it, "height")), ThumbType: getS(it, "thumbType"),
		MessageID: getS(it, "messageId")}
}

// InsertUpload implements confab.UploadStore: one transaction of the
// upload, its conversation's reference, its quota entry and its expiry
// entry, on the condition that the conversation exists.
func (s *Store) InsertUpload(ctx context.Context, u *confab.Upload) error {
	const op = "insert upload"
	tx := []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.t.conversations, Key: convKey(u.ConversationID),
			ConditionExpression: aws.String("attribute_exists(conversationId) AND attribute_not_exists(deleting)")}},
		{Put: &types.Put{TableName: &s.t.confab, Item: with(uploadKey(u.UploadID), uploadAttrs(u)),
			ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: &s.t.confab, Item: convUploadKey(u.ConversationID, u.UploadID)}},
		{Put: &types.Put{TableName: &s.t.confab, Item: with(quotaKey(u), item{"size": avN(u.Size)})}},
		{Put: &types.Put{TableName: &s.t.confab, Item: expiryKey(u)}},
	}
	err := s.transact(ctx, op, tx)
	switch {
	case conditionFailed(err, 0):
		return notFound("conversation")
	case conditionFailed(err, 1):
		return conflict(op, "upload id taken")
	}
	return err
}

// GetUpload implements confab.UploadStore.
func (s *Store) GetUpload(ctx context.Context, uploadID string) (*confab.Upload, error) {
	it, err := s.get(ctx, "get upload", s.t.confab, uploadKey(uploadID))
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, notFound("upload")
	}
	return readUpload(it), nil
}

// MarkUploadReady implements confab.UploadStore: it reads the upload (its
// quota entry's key), then updates it and the quota entry's size in one
// transaction.
func (s *Store) MarkUploadReady(ctx context.Context, u *confab.Upload) error {
	const op = "mark upload ready"
	old, err := s.GetUpload(ctx, u.UploadID)
	if err != nil {
		return err
	}
	up := newUpdate().set("ready", avB(true)).set("size", avN(u.Size)).set("width", avN(int64(u.Width))).
		set("height", avN(int64(u.Height))).set("thumbType", avS(u.ThumbType))
	tx := []types.TransactWriteItem{
		{Update: up.txUpdate(s.t.confab, uploadKey(u.UploadID), "attribute_exists(pk)")},
		{Put: &types.Put{TableName: &s.t.confab, Item: with(quotaKey(old), item{"size": avN(u.Size)})}},
	}
	err = s.transact(ctx, op, tx)
	if conditionFailed(err, 0) {
		return notFound("upload")
	}
	return err
}

// AttachUploads implements confab.UploadStore. It reads the uploads, then
// writes in one transaction, per upload, its messageId (on the
// condition that it is still as the contract asks), its link under the
// conversation (a copy, what ListMessageUploads reads) and the removal of
// its expiry entry, with the message's list of uploads (for
// DetachUploads). Any failed condition refuses them all.
func (s *Store) AttachUploads(ctx context.Context, ids []string, userID, conversationID, messageID string, now time.Time) error {
	const op = "attach uploads"
	if len(ids) > maxAttachIDs {
		return &confab.Error{Code: confab.CodeInvalid, Op: op, Err: fmt.Errorf("%d uploads, at most %d", len(ids), maxAttachIDs)}
	}
	if len(ids) == 0 {
		return nil
	}
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
		return conflict(op, "an upload named twice")
	}
	keys := make([]item, len(ids))
	for i, id := range ids {
		keys[i] = uploadKey(id)
	}
	items, err := s.batchGet(ctx, op, s.t.confab, keys)
	if err != nil {
		return err
	}
	if len(items) != len(ids) {
		return conflict(op, "an upload does not exist")
	}
	var tx []types.TransactWriteItem
	for _, it := range items {
		u := readUpload(it)
		if !u.Ready || u.MessageID != "" || u.UserID != userID || u.ConversationID != conversationID || !u.ExpiresAt.After(now) {
			return conflict(op, "an upload is not attachable")
		}
		cu := newUpdate().set("messageId", avS(messageID))
		cond := fmt.Sprintf("attribute_exists(pk) AND attribute_not_exists(messageId) AND %s = %s AND %s = %s AND %s = %s AND %s > %s",
			cu.name("ready"), cu.value(avB(true)), cu.name("userId"), cu.value(avS(userID)),
			cu.name("conversationId"), cu.value(avS(conversationID)), cu.name("expiresAt"), cu.value(avT(now)))
		u.MessageID = messageID
		tx = append(tx,
			types.TransactWriteItem{Update: cu.txUpdate(s.t.confab, uploadKey(u.UploadID), cond)},
			types.TransactWriteItem{Put: &types.Put{TableName: &s.t.confab, Item: with(linkKey(conversationID, messageID, u.UploadID), uploadAttrs(u))}},
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.confab, Key: expiryKey(u)}})
	}
	mu := newUpdate().set("conversationId", avS(conversationID))
	mu.setExpr("uploadIds", fmt.Sprintf("list_append(if_not_exists(%s, %s), %s)", mu.name("uploadIds"), mu.value(avList(nil)), mu.value(avList(ids))))
	tx = append(tx, types.TransactWriteItem{Update: mu.txUpdate(s.t.confab, messageUploadsKey(messageID), "")})
	err = s.transact(ctx, op, tx)
	if slices.Contains(cancelReasons(err), "ConditionalCheckFailed") {
		return conflict(op, "an upload is not attachable")
	}
	return err
}

// DetachUploads implements confab.UploadStore: it reads the message's list
// of uploads and the uploads, then in one transaction clears their
// messageId, removes their links, restores their expiry entries and
// removes the list.
func (s *Store) DetachUploads(ctx context.Context, messageID string) error {
	const op = "detach uploads"
	ref, err := s.get(ctx, op, s.t.confab, messageUploadsKey(messageID))
	if err != nil || ref == nil {
		return err
	}
	var keys []item
	for _, id := range slices.Compact(slices.Sorted(slices.Values(getList(ref, "uploadIds")))) {
		keys = append(keys, uploadKey(id))
	}
	items, err := s.batchGet(ctx, op, s.t.confab, keys)
	if err != nil {
		return err
	}
	var tx []types.TransactWriteItem
	for _, it := range items {
		u := readUpload(it)
		if u.MessageID != messageID {
			continue
		}
		cu := newUpdate().remove("messageId")
		cond := fmt.Sprintf("%s = %s", cu.name("messageId"), cu.value(avS(messageID)))
		tx = append(tx,
			types.TransactWriteItem{Update: cu.txUpdate(s.t.confab, uploadKey(u.UploadID), cond)},
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.confab, Key: linkKey(u.ConversationID, messageID, u.UploadID)}},
			types.TransactWriteItem{Put: &types.Put{TableName: &s.t.confab, Item: expiryKey(u)}})
	}
	tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.confab, Key: messageUploadsKey(messageID)}})
	err = s.transact(ctx, op, tx)
	if slices.Contains(cancelReasons(err), "ConditionalCheckFailed") {
		return conflict(op, "an upload changed while being detached")
	}
	return err
}

// ListMessageUploads implements confab.UploadStore: one Query of the
// conversation's links between the smallest and the largest message id
// asked (ids are time-ordered, so a page's are close), kept when asked.
func (s *Store) ListMessageUploads(ctx context.Context, conversationID string, messageIDs []string) (map[string][]*confab.Upload, error) {
	const op = "list message uploads"
	out := map[string][]*confab.Upload{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	if len(messageIDs) > confab.MaxPageLimit {
		return nil, &confab.Error{Code: confab.CodeInvalid, Op: op, Err: fmt.Errorf("%d messages, at most %d", len(messageIDs), confab.MaxPageLimit)}
	}
	items, err := s.queryLinks(ctx, op, conversationID, messageIDs)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		u := readUpload(it)
		out[u.MessageID] = append(out[u.MessageID], u)
	}
	return out, nil
}

// queryLinks returns the link items of the conversation's messages ids
// (at least one), in message then upload id order.
func (s *Store) queryLinks(ctx context.Context, op, conversationID string, ids []string) ([]item, error) {
	in := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: item{":pk": avS(convUploadPK(conversationID)),
			":lo": avS(linkPrefix(slices.Min(ids))), ":hi": avS("m#" + slices.Max(ids) + "\x01")}}
	items, err := s.queryAll(ctx, op, in)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(items, func(it item) bool { return !slices.Contains(ids, getS(it, "messageId")) }), nil
}

// SumUploadBytes implements confab.UploadStore: one Query of the user's
// quota entries from since on.
func (s *Store) SumUploadBytes(ctx context.Context, userID string, since time.Time) (int64, error) {
	in := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk AND sk >= :since"),
		ProjectionExpression:      aws.String("#s"),
		ExpressionAttributeNames:  map[string]string{"#s": "size"},
		ExpressionAttributeValues: item{":pk": avS("userup#" + userID), ":since": avS(timeKey(since))}}
	items, err := s.queryAll(ctx, "sum upload bytes", in)
	var n int64
	for _, it := range items {
		n += getN(it, "size")
	}
	return n, err
}

// ListDeadUploads implements confab.UploadStore: a Query of the dead
// uploads (of deleted or purged messages), then of each expiry shard up
// to now, until limit, and a BatchGetItem of the uploads.
func (s *Store) ListDeadUploads(ctx context.Context, now time.Time, limit int) ([]*confab.Upload, error) {
	const op = "list dead uploads"
	if limit <= 0 {
		return nil, nil
	}
	var keys []item
	seen := map[string]bool{}
	collect := func(in *ddb.QueryInput, id func(sk string) string) error {
		p := ddb.NewQueryPaginator(s.db, in)
		for p.HasMorePages() && len(keys) < limit {
			var out *ddb.QueryOutput
			if err := s.retry(ctx, op, func() error { var err error; out, err = p.NextPage(ctx); return err }); err != nil {
				return err
			}
			for _, it := range out.Items {
				if k := id(getS(it, "sk")); !seen[k] && len(keys) < limit {
					seen[k] = true
					keys = append(keys, uploadKey(k))
				}
			}
		}
		return nil
	}
	dead := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true), Limit: aws.Int32(int32(limit)),
		KeyConditionExpression: aws.String("pk = :pk"), ExpressionAttributeValues: item{":pk": avS("updead")}}
	if err := collect(dead, func(sk string) string { return sk }); err != nil {
		return nil, err
	}
	for shard := 0; shard < ageShards && len(keys) < limit; shard++ {
		in := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true), Limit: aws.Int32(int32(limit)),
			KeyConditionExpression:    aws.String("pk = :pk AND sk < :now"),
			ExpressionAttributeValues: item{":pk": avS(fmt.Sprintf("upexp#%02d", shard)), ":now": avS(timeKey(now))}}
		err := collect(in, func(sk string) string { _, id, _ := strings.Cut(sk, "\x00"); return id })
		if err != nil {
			return nil, err
		}
	}
	items, err := s.batchGet(ctx, op, s.t.confab, keys)
	if err != nil {
		return nil, err
	}
	out := make([]*confab.Upload, len(items))
	for i, it := range items {
		out[i] = readUpload(it)
	}
	return out, nil
}

// DeleteUpload implements confab.UploadStore: it reads the upload, removes
// the items that name it, then the upload itself (so a failure half way
// leaves it listed as dead, to be deleted again).
func (s *Store) DeleteUpload(ctx context.Context, uploadID string) error {
	const op = "delete upload"
	it, err := s.get(ctx, op, s.t.confab, uploadKey(uploadID))
	if err != nil || it == nil {
		return err
	}
	if err := s.batchDelete(ctx, op, s.t.confab, uploadItemKeys(readUpload(it))); err != nil {
		return err
	}
	return s.retry(ctx, op, func() error {
		_, err := s.db.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: &s.t.confab, Key: uploadKey(uploadID)})
		return err
	})
}

// uploadItemKeys are the keys of the items that name u, but u's own.
func uploadItemKeys(u *confab.Upload) []item {
	keys := []item{convUploadKey(u.ConversationID, u.UploadID), quotaKey(u), expiryKey(u), deadKey(u.UploadID)}
	if u.MessageID != "" {
		keys = append(keys, linkKey(u.ConversationID, u.MessageID, u.UploadID))
	}
	return keys
}

// deadUploadWrites returns the puts that mark dead the uploads attached to
// the conversation's messages ids (being deleted or purged).
func (s *Store) deadUploadWrites(ctx context.Context, op, conversationID string, ids []string) ([]types.TransactWriteItem, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	links, err := s.queryLinks(ctx, op, conversationID, ids)
	if err != nil {
		return nil, err
	}
	var w []types.TransactWriteItem
	for _, l := range links {
		w = append(w, types.TransactWriteItem{Put: &types.Put{TableName: &s.t.confab, Item: deadKey(getS(l, "uploadId"))}})
	}
	return w, nil
}

// markUploadsDead marks dead the uploads attached to the conversation's
// messages ids, which a purge is about to remove.
func (s *Store) markUploadsDead(ctx context.Context, op, conversationID string, ids []string) error {
	w, err := s.deadUploadWrites(ctx, op, conversationID, ids)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(w, 100) {
		if err := s.transact(ctx, op, chunk); err != nil {
			return err
		}
	}
	return nil
}

// conversationUploads returns the keys of every item of the conversation's
// uploads, theirs included, and the ids of those uploads.
func (s *Store) conversationUploads(ctx context.Context, op, conversationID string) (keys []item, uploadIDs []string, err error) {
	refs, err := s.queryPartition(ctx, op, convUploadPK(conversationID), "")
	if err != nil {
		return nil, nil, err
	}
	var ups []item
	for _, r := range refs {
		keys = append(keys, key(getS(r, "pk"), getS(r, "sk")))
		if id, ok := strings.CutPrefix(getS(r, "sk"), "u#"); ok {
			ups = append(ups, uploadKey(id))
			uploadIDs = append(uploadIDs, id)
		}
	}
	items, err := s.batchGet(ctx, op, s.t.confab, ups)
	if err != nil {
		return nil, nil, err
	}
	messages := map[string]bool{}
	for _, it := range items {
		u := readUpload(it)
		keys = append(keys, quotaKey(u), expiryKey(u), deadKey(u.UploadID), uploadKey(u.UploadID))
		if u.MessageID != "" && !messages[u.MessageID] {
			messages[u.MessageID] = true
			keys = append(keys, messageUploadsKey(u.MessageID))
		}
	}
	return keys, uploadIDs, nil
}

// attachedBytes is the total size of the attached uploads: a Scan of the
// links (Usage, an administrator's read).
func (s *Store) attachedBytes(ctx context.Context, op string) (int64, error) {
	in := &ddb.ScanInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("begins_with(pk, :p) AND begins_with(sk, :m)"),
		ProjectionExpression:      aws.String("#s"),
		ExpressionAttributeNames:  map[string]string{"#s": "size"},
		ExpressionAttributeValues: item{":p": avS("convup#"), ":m": avS("m#")}}
	var n int64
	p := ddb.NewScanPaginator(s.db, in)
	for p.HasMorePages() {
		var out *ddb.ScanOutput
		if err := s.retry(ctx, op, func() error { var err error; out, err = p.NextPage(ctx); return err }); err != nil {
			return 0, err
		}
		for _, it := range out.Items {
			n += getN(it, "size")
		}
	}
	return n, nil
}
