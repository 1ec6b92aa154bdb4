package dynamodb

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// Moderation items, all in the confab table (see doc.go):
//
//	user#<userId> / block#<blockedId>   a block: createdAt
//	user#<userId> / blocks              the number of blocks, n (kept with them)
//	user#<userId> / inv#<convId>        an invitation: invitedBy, role, createdAt
//	invited#<convId> / <userId>         reference to it, for DeleteConversation
//	ban#<convId> / <userId>             a ban ("ban#" alone: server-wide)
//	reports / <reportId>                a report
//	audit / <entryId>                   an audit entry, with copies under
//	audit#c#<convId> and audit#u#<userId> for the filtered reads
//
// Report and audit ids are time-ordered, so each list is one Query
// backwards from the page's cursor. Reports and the whole audit log are
// one partition each: an admin's lists, written at human pace.

func blockKey(userID, blockedID string) item { return key(userPK(userID), "block#"+blockedID) }
func blockCountKey(userID string) item       { return key(userPK(userID), "blocks") }
func invitationKey(conversationID, userID string) item {
	return key(userPK(userID), "inv#"+conversationID)
}
func invitedKey(conversationID, userID string) item { return key("invited#"+conversationID, userID) }
func banKey(conversationID, userID string) item     { return key("ban#"+conversationID, userID) }
func reportKey(reportID string) item                { return key("reports", reportID) }

var errTooManyBlocks = errors.New("dynamodb: the user blocks as many users as allowed")

// InsertBlock implements confab.ModerationStore: the block on
// attribute_not_exists and the user's block count raised on the
// condition that it is below maxBlocks, in one transaction, so the limit
// holds under concurrent blocks.
func (s *Store) InsertBlock(ctx context.Context, b *confab.Block, maxBlocks int) (bool, error) {
	const op = "insert block"
	u := newUpdate().add("n", 1)
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.t.confab, Item: with(blockKey(b.UserID, b.BlockedID), item{"createdAt": avT(b.CreatedAt)}),
			ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Update: u.txUpdate(s.t.confab, blockCountKey(b.UserID),
			"attribute_not_exists("+u.name("n")+") OR "+u.name("n")+" < "+u.value(avN(int64(maxBlocks))))},
	}
	err := s.transact(ctx, op, tx)
	switch {
	case conditionFailed(err, 0):
		return false, nil
	case conditionFailed(err, 1):
		return false, &confab.Error{Code: confab.CodeLimited, Op: op, Err: errTooManyBlocks}
	case err != nil:
		return false, err
	}
	return true, nil
}

// DeleteBlock implements confab.ModerationStore: the block on
// attribute_exists and the count lowered, in one transaction.
func (s *Store) DeleteBlock(ctx context.Context, userID, blockedID string) (bool, error) {
	const op = "delete block"
	tx := []types.TransactWriteItem{
		deleteIf(s.t.confab, blockKey(userID, blockedID)),
		{Update: newUpdate().add("n", -1).txUpdate(s.t.confab, blockCountKey(userID), "")},
	}
	err := s.transact(ctx, op, tx)
	if conditionFailed(err, 0) {
		return false, nil
	}
	return err == nil, err
}

func readBlock(it item) *confab.Block {
	return &confab.Block{UserID: strings.TrimPrefix(getS(it, "pk"), "user#"), BlockedID: strings.TrimPrefix(getS(it, "sk"), "block#"),
		CreatedAt: getT(it, "createdAt")}
}

// ListBlocks implements confab.ModerationStore: one consistent Query of
// the user's blocks (at most MaxBlocks), ordered in memory.
func (s *Store) ListBlocks(ctx context.Context, userID string, limit int) ([]*confab.Block, error) {
	if limit <= 0 {
		return nil, nil
	}
	items, err := s.queryPartition(ctx, "list blocks", userPK(userID), "block#")
	if err != nil {
		return nil, err
	}
	blocks := make([]*confab.Block, len(items))
	for i, it := range items {
		blocks[i] = readBlock(it)
	}
	slices.SortFunc(blocks, func(a, b *confab.Block) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.BlockedID, b.BlockedID))
	})
	return blocks[:min(len(blocks), limit)], nil
}

// BlocksBetween implements confab.ModerationStore: one consistent batch
// read of both directions' block items.
func (s *Store) BlocksBetween(ctx context.Context, userID string, others []string) ([]*confab.Block, error) {
	var keys []item
	seen := map[string]bool{}
	for _, o := range others {
		if !seen[o] {
			seen[o] = true
			keys = append(keys, blockKey(userID, o), blockKey(o, userID))
		}
	}
	items, err := s.batchGet(ctx, "blocks between", s.t.confab, keys)
	if err != nil {
		return nil, err
	}
	blocks := make([]*confab.Block, len(items))
	for i, it := range items {
		blocks[i] = readBlock(it)
	}
	return blocks, nil
}

// SharesConversation implements confab.ModerationStore: the two users'
// memberships (one consistent Query each, keys only), intersected. Its
// cost grows with their numbers of conversations.
func (s *Store) SharesConversation(ctx context.Context, userID, otherID string) (bool, error) {
	const op = "shares conversation"
	mine, err := s.queryPartition(ctx, op, userPK(userID), "conv#")
	if err != nil || len(mine) == 0 {
		return false, err
	}
	theirs, err := s.queryPartition(ctx, op, userPK(otherID), "conv#")
	if err != nil {
		return false, err
	}
	set := map[string]bool{}
	for _, it := range mine {
		set[getS(it, "sk")] = true
	}
	for _, it := range theirs {
		if set[getS(it, "sk")] {
			return true, nil
		}
	}
	return false, nil
}

// InsertInvitation implements confab.ModerationStore: the invitation and
// its reference under the conversation, in one transaction.
func (s *Store) InsertInvitation(ctx context.Context, inv *confab.Invitation) error {
	it := with(invitationKey(inv.ConversationID, inv.UserID), item{"invitedBy": avS(inv.InvitedBy), "createdAt": avT(inv.CreatedAt)})
	if inv.Role != "" {
		it["role"] = avS(string(inv.Role))
	}
	return s.transact(ctx, "insert invitation", []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.t.confab, Item: it}},
		{Put: &types.Put{TableName: &s.t.confab, Item: invitedKey(inv.ConversationID, inv.UserID)}},
	})
}

func readInvitation(it item) *confab.Invitation {
	return &confab.Invitation{ConversationID: strings.TrimPrefix(getS(it, "sk"), "inv#"), UserID: strings.TrimPrefix(getS(it, "pk"), "user#"),
		InvitedBy: getS(it, "invitedBy"), Role: confab.Role(getS(it, "role")), CreatedAt: getT(it, "createdAt")}
}

// GetInvitation implements confab.ModerationStore.
func (s *Store) GetInvitation(ctx context.Context, conversationID, userID string) (*confab.Invitation, error) {
	it, err := s.get(ctx, "get invitation", s.t.confab, invitationKey(conversationID, userID))
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, notFound("invitation")
	}
	return readInvitation(it), nil
}

// DeleteInvitation implements confab.ModerationStore: the invitation on
// attribute_exists (so of two racing deletes one fails) with its
// reference.
func (s *Store) DeleteInvitation(ctx context.Context, conversationID, userID string) error {
	err := s.transact(ctx, "delete invitation", []types.TransactWriteItem{
		deleteIf(s.t.confab, invitationKey(conversationID, userID)),
		{Delete: &types.Delete{TableName: &s.t.confab, Key: invitedKey(conversationID, userID)}},
	})
	if conditionFailed(err, 0) {
		return notFound("invitation")
	}
	return err
}

// ListInvitations implements confab.ModerationStore: one consistent
// Query of the user's invitations, ordered in memory.
func (s *Store) ListInvitations(ctx context.Context, userID string, limit int) ([]*confab.Invitation, error) {
	if limit <= 0 {
		return nil, nil
	}
	items, err := s.queryPartition(ctx, "list invitations", userPK(userID), "inv#")
	if err != nil {
		return nil, err
	}
	invs := make([]*confab.Invitation, len(items))
	for i, it := range items {
		invs[i] = readInvitation(it)
	}
	slices.SortFunc(invs, func(a, b *confab.Invitation) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(a.ConversationID, b.ConversationID))
	})
	return invs[:min(len(invs), limit)], nil
}

// PutBan implements confab.ModerationStore.
func (s *Store) PutBan(ctx context.Context, b *confab.Ban) error {
	it := with(banKey(b.ConversationID, b.UserID), item{"bannedBy": avS(b.BannedBy), "reason": avS(b.Reason), "createdAt": avT(b.CreatedAt)})
	putOpt(it, "until", b.Until, avT)
	return s.retry(ctx, "put ban", func() error {
		_, err := s.db.PutItem(ctx, &ddb.PutItemInput{TableName: &s.t.confab, Item: it})
		return err
	})
}

func readBan(it item) *confab.Ban {
	return &confab.Ban{ConversationID: strings.TrimPrefix(getS(it, "pk"), "ban#"), UserID: getS(it, "sk"), BannedBy: getS(it, "bannedBy"),
		Reason: getS(it, "reason"), CreatedAt: getT(it, "createdAt"), Until: getTP(it, "until")}
}

// GetBan implements confab.ModerationStore.
func (s *Store) GetBan(ctx context.Context, conversationID, userID string) (*confab.Ban, error) {
	it, err := s.get(ctx, "get ban", s.t.confab, banKey(conversationID, userID))
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, notFound("ban")
	}
	return readBan(it), nil
}

// DeleteBan implements confab.ModerationStore.
func (s *Store) DeleteBan(ctx context.Context, conversationID, userID string) (bool, error) {
	var out *ddb.DeleteItemOutput
	err := s.retry(ctx, "delete ban", func() error {
		var err error
		out, err = s.db.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: &s.t.confab, Key: banKey(conversationID, userID),
			ReturnValues: types.ReturnValueAllOld})
		return err
	})
	if err != nil {
		return false, err
	}
	return len(out.Attributes) > 0, nil
}

// ListBans implements confab.ModerationStore: one consistent Query of
// the scope's bans, ordered in memory (its cost grows with the scope's
// bans, not the page).
func (s *Store) ListBans(ctx context.Context, conversationID string, limit int) ([]*confab.Ban, error) {
	if limit <= 0 {
		return nil, nil
	}
	items, err := s.queryPartition(ctx, "list bans", "ban#"+conversationID, "")
	if err != nil {
		return nil, err
	}
	bans := make([]*confab.Ban, len(items))
	for i, it := range items {
		bans[i] = readBan(it)
	}
	slices.SortFunc(bans, func(a, b *confab.Ban) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(a.UserID, b.UserID))
	})
	return bans[:min(len(bans), limit)], nil
}

func reportItem(r *confab.Report) item {
	it := with(reportKey(r.ReportID), item{"reporterId": avS(r.ReporterID), "userId": avS(r.UserID), "reason": avS(r.Reason),
		"createdAt": avT(r.CreatedAt), "status": avS(string(cmp.Or(r.Status, confab.ReportOpen)))})
	for k, v := range map[string]string{"conversationId": r.ConversationID, "messageId": r.MessageID,
		"resolvedBy": r.ResolvedBy, "resolution": r.Resolution} {
		if v != "" {
			it[k] = avS(v)
		}
	}
	putOpt(it, "resolvedAt", r.ResolvedAt, avT)
	return it
}

func readReport(it item) *confab.Report {
	return &confab.Report{ReportID: getS(it, "sk"), ReporterID: getS(it, "reporterId"), UserID: getS(it, "userId"),
		ConversationID: getS(it, "conversationId"), MessageID: getS(it, "messageId"), Reason: getS(it, "reason"),
		CreatedAt: getT(it, "createdAt"), Status: confab.ReportStatus(getS(it, "status")), ResolvedBy: getS(it, "resolvedBy"),
		ResolvedAt: getTP(it, "resolvedAt"), Resolution: getS(it, "resolution")}
}

// InsertReport implements confab.ModerationStore.
func (s *Store) InsertReport(ctx context.Context, r *confab.Report) error {
	const op = "insert report"
	err := s.retry(ctx, op, func() error {
		_, err := s.db.PutItem(ctx, &ddb.PutItemInput{TableName: &s.t.confab, Item: reportItem(r),
			ConditionExpression: aws.String("attribute_not_exists(pk)")})
		return err
	})
	if isConditionFailed(err) {
		return conflict(op, "report id already used")
	}
	return err
}

// GetReport implements confab.ModerationStore.
func (s *Store) GetReport(ctx context.Context, reportID string) (*confab.Report, error) {
	it, err := s.get(ctx, "get report", s.t.confab, reportKey(reportID))
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, notFound("report")
	}
	return readReport(it), nil
}

// ListReports implements confab.ModerationStore: a Query of the reports
// backwards from f.Before, filtered by status (a filter reads the
// reports it skips).
func (s *Store) ListReports(ctx context.Context, f confab.ReportFilter) ([]*confab.Report, error) {
	var filter map[string]string
	if f.Status != "" {
		filter = map[string]string{"status": string(f.Status)}
	}
	items, err := s.queryBack(ctx, "list reports", "reports", f.Before, f.Limit, filter)
	if err != nil {
		return nil, err
	}
	reports := make([]*confab.Report, len(items))
	for i, it := range items {
		reports[i] = readReport(it)
	}
	return reports, nil
}

// ResolveReport implements confab.ModerationStore: one UpdateItem on the
// condition that the report is open.
func (s *Store) ResolveReport(ctx context.Context, reportID, by string, status confab.ReportStatus, resolution string,
	at time.Time) (*confab.Report, error) {
	const op = "resolve report"
	u := newUpdate().set("status", avS(string(status))).set("resolvedBy", avS(by)).set("resolvedAt", avT(at))
	if resolution != "" {
		u.set("resolution", avS(resolution))
	}
	in := u.input(s.t.confab, reportKey(reportID), "attribute_exists(pk) AND "+u.name("status")+" = "+u.value(avS(string(confab.ReportOpen))))
	in.ReturnValues = types.ReturnValueAllNew
	var out *ddb.UpdateItemOutput
	err := s.retry(ctx, op, func() error { var err error; out, err = s.db.UpdateItem(ctx, in); return err })
	if isConditionFailed(err) {
		if _, err := s.GetReport(ctx, reportID); err != nil {
			return nil, err
		}
		return nil, conflict(op, "report is no longer open")
	}
	if err != nil {
		return nil, err
	}
	return readReport(out.Attributes), nil
}

// InsertAudit implements confab.ModerationStore: the entry under the
// whole log's partition and, for the filtered reads, copies under its
// conversation's and its user's, in one transaction.
func (s *Store) InsertAudit(ctx context.Context, e *confab.AuditEntry) error {
	attrs := item{"at": avT(e.At), "action": avS(string(e.Action))}
	for k, v := range map[string]string{"actorId": e.ActorID, "conversationId": e.ConversationID, "userId": e.UserID,
		"messageId": e.MessageID, "reason": e.Reason, "detail": e.Detail} {
		if v != "" {
			attrs[k] = avS(v)
		}
	}
	putOpt(attrs, "until", e.Until, avT)
	pks := []string{"audit"}
	if e.ConversationID != "" {
		pks = append(pks, "audit#c#"+e.ConversationID)
	}
	if e.UserID != "" {
		pks = append(pks, "audit#u#"+e.UserID)
	}
	var tx []types.TransactWriteItem
	for _, pk := range pks {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.t.confab, Item: with(key(pk, e.EntryID), attrs)}})
	}
	return s.transact(ctx, "insert audit", tx)
}

// ListAudit implements confab.ModerationStore: a Query backwards from
// f.Before of the conversation's copies (filtered by user when both are
// set), the user's, or the whole log's.
func (s *Store) ListAudit(ctx context.Context, f confab.AuditFilter) ([]*confab.AuditEntry, error) {
	pk, filter := "audit", map[string]string(nil)
	switch {
	case f.ConversationID != "":
		pk = "audit#c#" + f.ConversationID
		if f.UserID != "" {
			filter = map[string]string{"userId": f.UserID}
		}
	case f.UserID != "":
		pk = "audit#u#" + f.UserID
	}
	items, err := s.queryBack(ctx, "list audit", pk, f.Before, f.Limit, filter)
	if err != nil {
		return nil, err
	}
	entries := make([]*confab.AuditEntry, len(items))
	for i, it := range items {
		entries[i] = &confab.AuditEntry{EntryID: getS(it, "sk"), At: getT(it, "at"), ActorID: getS(it, "actorId"),
			Action: confab.AuditAction(getS(it, "action")), ConversationID: getS(it, "conversationId"), UserID: getS(it, "userId"),
			MessageID: getS(it, "messageId"), Reason: getS(it, "reason"), Until: getTP(it, "until"), Detail: getS(it, "detail")}
	}
	return entries, nil
}

// queryBack reads up to limit items of the confab table's partition pk
// with sk below before (all when ""), highest sk first, whose attributes
// equal filter's values.
func (s *Store) queryBack(ctx context.Context, op, pk, before string, limit int, filter map[string]string) ([]item, error) {
	if limit <= 0 {
		return nil, nil
	}
	in := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true), ScanIndexForward: aws.Bool(false),
		Limit: aws.Int32(int32(min(limit, 1000))), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: item{":pk": avS(pk)}}
	if before != "" {
		in.KeyConditionExpression = aws.String("pk = :pk AND sk < :before")
		in.ExpressionAttributeValues[":before"] = avS(before)
	}
	if len(filter) > 0 {
		u := newUpdate()
		var conds []string
		for _, k := range slices.Sorted(maps.Keys(filter)) {
			conds = append(conds, u.name(k)+" = "+u.value(avS(filter[k])))
		}
		in.FilterExpression = aws.String(strings.Join(conds, " AND "))
		in.ExpressionAttributeNames = u.names
		for k, v := range u.values {
			in.ExpressionAttributeValues[k] = v
		}
	}
	var items []item
	p := ddb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() && len(items) < limit {
		var out *ddb.QueryOutput
		if err := s.retry(ctx, op, func() error { var err error; out, err = p.NextPage(ctx); return err }); err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
	}
	return items[:min(len(items), limit)], nil
}
