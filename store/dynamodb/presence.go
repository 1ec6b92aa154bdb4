package dynamodb

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/confab-chat/confab"
)

// Connection counts: one item per (user, node) under the user's partition
// (sk "conn#<node>": count, seenAt), and a reference per (node, user)
// under "node#<node>" so that a node's heartbeat finds its counts.
func connKey(userID, nodeID string) item    { return key(userPK(userID), "conn#"+nodeID) }
func nodeRefKey(nodeID, userID string) item { return key("node#"+nodeID, userID) }

var _ confab.PresenceStore = (*Store)(nil)

// AdjustConnections implements confab.PresenceStore. The count changes by
// an atomic ADD; a decrement is conditioned on the count covering it, and
// when it does not the count becomes zero (never below). A zero count is
// deleted (on the condition that it is still zero). The total is then
// summed by a consistent query of the user's counts, so it includes every
// adjustment that completed before.
func (s *Store) AdjustConnections(ctx context.Context, userID, nodeID string, delta int, now, staleBefore time.Time) (int, error) {
	const op = "adjust connections"
	u := newUpdate().set("seenAt", avT(now)).add("connections", int64(delta))
	cond := ""
	if delta < 0 {
		cond = u.name("connections") + " >= " + u.value(avN(int64(-delta)))
	}
	err := s.retry(ctx, op, func() error {
		_, err := s.db.UpdateItem(ctx, u.input(s.t.confab, connKey(userID, nodeID), cond))
		return err
	})
	if isConditionFailed(err) {
		err = s.deleteZero(ctx, op, userID, nodeID, true)
	} else if err == nil && delta <= 0 {
		err = s.deleteZero(ctx, op, userID, nodeID, false)
	}
	if err != nil {
		return 0, err
	}
	if delta > 0 {
		if err := s.retry(ctx, op, func() error {
			_, err := s.db.PutItem(ctx, &ddb.PutItemInput{TableName: &s.t.confab, Item: nodeRefKey(nodeID, userID)})
			return err
		}); err != nil {
			return 0, err
		}
	}
	counts, err := s.queryPartition(ctx, op, userPK(userID), "conn#")
	if err != nil {
		return 0, err
	}
	total := 0
	for _, c := range counts {
		if !getT(c, "seenAt").Before(staleBefore.UTC().Truncate(time.Millisecond)) {
			total += int(max(getN(c, "connections"), 0))
		}
	}
	return total, nil
}

// deleteZero deletes the (user, node) count when it is at most zero (any,
// when force: a decrement that found too few).
func (s *Store) deleteZero(ctx context.Context, op, userID, nodeID string, force bool) error {
	in := &ddb.DeleteItemInput{TableName: &s.t.confab, Key: connKey(userID, nodeID)}
	if !force {
		in.ConditionExpression = aws.String("connections <= :z")
		in.ExpressionAttributeValues = item{":z": avN(0)}
	}
	err := s.retry(ctx, op, func() error { _, err := s.db.DeleteItem(ctx, in); return err })
	if isConditionFailed(err) {
		return nil
	}
	return err
}

// TouchConnections implements confab.PresenceStore: each count of the
// node's references is stamped, if it still exists.
func (s *Store) TouchConnections(ctx context.Context, nodeID string, now time.Time) error {
	const op = "touch connections"
	refs, err := s.queryPartition(ctx, op, "node#"+nodeID, "")
	if err != nil {
		return err
	}
	for _, r := range refs {
		userID := getS(r, "sk")
		in := newUpdate().set("seenAt", avT(now)).input(s.t.confab, connKey(userID, nodeID), "attribute_exists(pk)")
		err := s.retry(ctx, op, func() error { _, err := s.db.UpdateItem(ctx, in); return err })
		if isConditionFailed(err) {
			err = s.retry(ctx, op, func() error {
				_, err := s.db.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: &s.t.confab, Key: nodeRefKey(nodeID, userID)})
				return err
			})
		}
		if err != nil {
			return err
		}
	}
	return nil
}
