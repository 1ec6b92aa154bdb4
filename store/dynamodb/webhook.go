package dynamodb

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// Webhooks are items of one partition of the confab table, pk "webhook",
// sk the webhook's id: an operator keeps a handful, and the outbox worker
// lists them all by one Query, in id order.
const webhookPK = "webhook"

func webhookKey(id string) item { return key(webhookPK, id) }

func webhookItem(w *confab.Webhook) item {
	events := make([]string, len(w.Events))
	for i, e := range w.Events {
		events[i] = string(e)
	}
	it := with(webhookKey(w.WebhookID), item{"url": avS(w.URL), "events": avList(events), "secret": avS(w.Secret),
		"createdAt": avT(w.CreatedAt), "failures": avN(int64(w.Failures))})
	putOpt(it, "disabledAt", w.DisabledAt, avT)
	return it
}

func readWebhook(it item) *confab.Webhook {
	w := &confab.Webhook{WebhookID: getS(it, "sk"), URL: getS(it, "url"), Secret: getS(it, "secret"),
		CreatedAt: getT(it, "createdAt"), Failures: int(getN(it, "failures")), DisabledAt: getTP(it, "disabledAt")}
	for _, e := range getList(it, "events") {
		w.Events = append(w.Events, confab.OutboxEvent(e))
	}
	return w
}

// InsertWebhook implements confab.WebhookStore.
func (s *Store) InsertWebhook(ctx context.Context, w *confab.Webhook) error {
	const op = "insert webhook"
	err := s.retry(ctx, op, func() error {
		_, err := s.db.PutItem(ctx, &ddb.PutItemInput{TableName: &s.t.confab, Item: webhookItem(w),
			ConditionExpression: aws.String("attribute_not_exists(pk)")})
		return err
	})
	if isConditionFailed(err) {
		return conflict(op, "webhook id already used")
	}
	return err
}

// ListWebhooks implements confab.WebhookStore.
func (s *Store) ListWebhooks(ctx context.Context) ([]*confab.Webhook, error) {
	items, err := s.queryPartition(ctx, "list webhooks", webhookPK, "")
	if err != nil {
		return nil, err
	}
	out := make([]*confab.Webhook, len(items))
	for i, it := range items {
		out[i] = readWebhook(it)
	}
	return out, nil
}

// DeleteWebhook implements confab.WebhookStore.
func (s *Store) DeleteWebhook(ctx context.Context, webhookID string) error {
	err := s.retry(ctx, "delete webhook", func() error {
		_, err := s.db.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: &s.t.confab, Key: webhookKey(webhookID),
			ConditionExpression: aws.String("attribute_exists(pk)")})
		return err
	})
	if isConditionFailed(err) {
		return notFound("webhook")
	}
	return err
}

// updateWebhook applies u to an existing webhook and returns it as
// stored after (CodeNotFound when it is missing).
func (s *Store) updateWebhook(ctx context.Context, op, webhookID string, u *update, cond string) (*confab.Webhook, error) {
	in := u.input(s.t.confab, webhookKey(webhookID), "attribute_exists(pk)"+cond)
	in.ReturnValues = types.ReturnValueAllNew
	var out *ddb.UpdateItemOutput
	err := s.retry(ctx, op, func() error { var err error; out, err = s.db.UpdateItem(ctx, in); return err })
	if isConditionFailed(err) {
		return nil, notFound("webhook")
	}
	if err != nil {
		return nil, err
	}
	return readWebhook(out.Attributes), nil
}

// RecordWebhookResult implements confab.WebhookStore: a success is one
// UpdateItem; a failure adds one (UpdateItem), then, when that reached
// disableAfter, sets DisabledAt if it is not set (a second, conditional
// UpdateItem: of two failures counted at once, one disables).
func (s *Store) RecordWebhookResult(ctx context.Context, webhookID string, ok bool, disableAfter int, at time.Time) (*confab.Webhook, error) {
	const op = "record webhook result"
	if ok {
		return s.updateWebhook(ctx, op, webhookID, newUpdate().set("failures", avN(0)), "")
	}
	w, err := s.updateWebhook(ctx, op, webhookID, newUpdate().add("failures", 1), "")
	if err != nil || w.DisabledAt != nil || w.Failures < disableAfter {
		return w, err
	}
	u := newUpdate().set("disabledAt", avT(at))
	disabled, err := s.updateWebhook(ctx, op, webhookID, u, " AND attribute_not_exists("+u.name("disabledAt")+")")
	if confab.ErrorCode(err) == confab.CodeNotFound { // disabled meanwhile, or removed
		if w, err = s.getWebhook(ctx, op, webhookID); err != nil {
			return nil, err
		}
		return w, nil
	}
	return disabled, err
}

func (s *Store) getWebhook(ctx context.Context, op, webhookID string) (*confab.Webhook, error) {
	it, err := s.get(ctx, op, s.t.confab, webhookKey(webhookID))
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, notFound("webhook")
	}
	return readWebhook(it), nil
}

// EnableWebhook implements confab.WebhookStore.
func (s *Store) EnableWebhook(ctx context.Context, webhookID string) error {
	_, err := s.updateWebhook(ctx, "enable webhook", webhookID, newUpdate().set("failures", avN(0)).remove("disabledAt"), "")
	return err
}
