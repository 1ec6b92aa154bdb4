package dynamodb

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// Push subscriptions, in the confab table: one item per endpoint under
// "push#<sha256 of the endpoint>" (an endpoint may be longer than a key may
// be), and a copy under its user's partition (sk "push#<hash>") so that a
// user's subscriptions are one query. Notification settings are the JSON
// of confab.NotificationSettings at the user's "notify"; coalescing
// windows are "pushwin#<conversation>" items of the user.

var _ confab.PushStore = (*Store)(nil)

func pushHash(endpoint string) string {
	h := sha256.Sum256([]byte(endpoint))
	return "push#" + hex.EncodeToString(h[:])
}

func pushKey(endpoint string) item             { return key(pushHash(endpoint), "push") }
func pushRefKey(userID, endpoint string) item  { return key(userPK(userID), pushHash(endpoint)) }
func pushWindowKey(userID, convID string) item { return key(userPK(userID), "pushwin#"+convID) }
func notifySettingsKey(userID string) item     { return key(userPK(userID), "notify") }

func pushItem(k item, p *confab.PushSubscription) item {
	k["endpoint"], k["userId"], k["p256dh"], k["auth"], k["createdAt"] = avS(p.Endpoint), avS(p.UserID), avS(p.P256dh), avS(p.Auth), avT(p.CreatedAt)
	return k
}

func pushFrom(it item) *confab.PushSubscription {
	return &confab.PushSubscription{Endpoint: getS(it, "endpoint"), UserID: getS(it, "userId"), P256dh: getS(it, "p256dh"),
		Auth: getS(it, "auth"), CreatedAt: getT(it, "createdAt")}
}

// PutPushSubscription implements confab.PushStore.
func (s *Store) PutPushSubscription(ctx context.Context, p *confab.PushSubscription) error {
	const op = "put push subscription"
	old, err := s.get(ctx, op, s.t.confab, pushKey(p.Endpoint))
	if err != nil {
		return err
	}
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.t.confab, Item: pushItem(pushKey(p.Endpoint), p)}},
		{Put: &types.Put{TableName: &s.t.confab, Item: pushItem(pushRefKey(p.UserID, p.Endpoint), p)}},
	}
	if old != nil && getS(old, "userId") != p.UserID {
		tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.confab, Key: pushRefKey(getS(old, "userId"), p.Endpoint)}})
	}
	if err := s.retry(ctx, op, func() error {
		_, err := s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: tx})
		return err
	}); err != nil {
		return err
	}
	subs, err := s.userPushSubscriptions(ctx, op, p.UserID)
	if err != nil {
		return err
	}
	slices.SortFunc(subs, func(a, b *confab.PushSubscription) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.Endpoint, a.Endpoint))
	})
	for _, old := range subs[min(len(subs), confab.MaxPushSubscriptionsPerUser):] {
		if _, err := s.DeletePushSubscription(ctx, p.UserID, old.Endpoint); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) userPushSubscriptions(ctx context.Context, op, userID string) ([]*confab.PushSubscription, error) {
	items, err := s.queryPartition(ctx, op, userPK(userID), "push#")
	if err != nil {
		return nil, err
	}
	out := make([]*confab.PushSubscription, len(items))
	for i, it := range items {
		out[i] = pushFrom(it)
	}
	return out, nil
}

// DeletePushSubscription implements confab.PushStore.
func (s *Store) DeletePushSubscription(ctx context.Context, userID, endpoint string) (bool, error) {
	const op = "delete push subscription"
	cur, err := s.get(ctx, op, s.t.confab, pushKey(endpoint))
	if err != nil || cur == nil {
		return false, err
	}
	owner := getS(cur, "userId")
	if userID != "" && owner != userID {
		return false, nil
	}
	tx := []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.t.confab, Key: pushKey(endpoint), ConditionExpression: aws.String("userId = :u"),
			ExpressionAttributeValues: item{":u": avS(owner)}}},
		{Delete: &types.Delete{TableName: &s.t.confab, Key: pushRefKey(owner, endpoint)}},
	}
	err = s.retry(ctx, op, func() error {
		_, err := s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: tx})
		return err
	})
	if conditionFailed(err, 0) {
		return false, nil // moved or removed meanwhile
	}
	return err == nil, err
}

// GetPushSubscription implements confab.PushStore.
func (s *Store) GetPushSubscription(ctx context.Context, endpoint string) (*confab.PushSubscription, error) {
	it, err := s.get(ctx, "get push subscription", s.t.confab, pushKey(endpoint))
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, notFound("push subscription")
	}
	return pushFrom(it), nil
}

// ListPushSubscriptions implements confab.PushStore: one query per user.
func (s *Store) ListPushSubscriptions(ctx context.Context, userIDs []string) ([]*confab.PushSubscription, error) {
	var out []*confab.PushSubscription
	for _, id := range userIDs {
		subs, err := s.userPushSubscriptions(ctx, "list push subscriptions", id)
		if err != nil {
			return nil, err
		}
		out = append(out, subs...)
	}
	slices.SortFunc(out, func(a, b *confab.PushSubscription) int {
		return cmp.Or(cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.Endpoint, b.Endpoint))
	})
	return out, nil
}

// ConnectedUsers implements confab.PushStore: one query of each user's
// connection counts.
func (s *Store) ConnectedUsers(ctx context.Context, userIDs []string, staleBefore time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	stale := staleBefore.UTC().Truncate(time.Millisecond)
	for _, id := range userIDs {
		counts, err := s.queryPartition(ctx, "connected users", userPK(id), "conn#")
		if err != nil {
			return nil, err
		}
		for _, c := range counts {
			if getN(c, "connections") > 0 && !getT(c, "seenAt").Before(stale) {
				out[id] = true
			}
		}
	}
	return out, nil
}

// GetNotificationSettings implements confab.NotificationStore.
func (s *Store) GetNotificationSettings(ctx context.Context, userIDs []string) (map[string]*confab.NotificationSettings, error) {
	const op = "get notification settings"
	out := map[string]*confab.NotificationSettings{}
	for _, id := range userIDs {
		it, err := s.get(ctx, op, s.t.confab, notifySettingsKey(id))
		if err != nil {
			return nil, err
		}
		if it == nil {
			continue
		}
		var ns confab.NotificationSettings
		if err := json.Unmarshal([]byte(getS(it, "settings")), &ns); err != nil {
			return nil, mapErr(op, err)
		}
		out[id] = &ns
	}
	return out, nil
}

// PutNotificationSettings implements confab.NotificationStore.
func (s *Store) PutNotificationSettings(ctx context.Context, userID string, ns *confab.NotificationSettings) error {
	const op = "put notification settings"
	js, err := json.Marshal(ns)
	if err != nil {
		return mapErr(op, err)
	}
	it := notifySettingsKey(userID)
	it["settings"] = avS(string(js))
	return s.retry(ctx, op, func() error {
		_, err := s.db.PutItem(ctx, &ddb.PutItemInput{TableName: &s.t.confab, Item: it})
		return err
	})
}

// ClaimPushWindows implements confab.NotificationStore.
func (s *Store) ClaimPushWindows(ctx context.Context, userIDs []string, conversationID string, now time.Time, window time.Duration) (map[string]bool, error) {
	// DynamoDB has no conditional batch write (a transaction fails whole
	// on one open window): one conditional put per user. Writes here do
	// not queue behind one another as on SQLite's single writer.
	won := make(map[string]bool, len(userIDs))
	for _, u := range userIDs {
		ok, err := s.ClaimPushWindow(ctx, u, conversationID, now, window)
		if err != nil {
			return nil, err
		}
		if ok {
			won[u] = true
		}
	}
	return won, nil
}

// ClaimPushWindow implements confab.NotificationStore with a conditional
// put: no window, or one that has ended.
func (s *Store) ClaimPushWindow(ctx context.Context, userID, conversationID string, now time.Time, window time.Duration) (bool, error) {
	const op = "claim push window"
	it := pushWindowKey(userID, conversationID)
	it["until"] = avT(now.Add(window))
	err := s.retry(ctx, op, func() error {
		_, err := s.db.PutItem(ctx, &ddb.PutItemInput{TableName: &s.t.confab, Item: it,
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR #u <= :now"),
			ExpressionAttributeNames:  map[string]string{"#u": "until"},
			ExpressionAttributeValues: item{":now": avT(now)}})
		return err
	})
	if isConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}
