package dynamodb

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// Refresh tokens live in the confab table: a token item per hash, a family
// item per family (its user, sign-in time and the revoked flag, so that a
// revocation is one conditional write, never a query over the family's
// tokens), and references under the user's partition for
// RevokeUserRefreshTokens and DeleteAccount. A token is revoked when its
// own flag or its family's is set.
func tokenKey(hash string) item      { return key("rtoken#"+hash, "-") }
func familyKey(familyID string) item { return key("family#"+familyID, "-") }

// tokenWrites are the items that store t, the family write conditioned on
// familyCond ("" for none).
func (s *Store) tokenWrites(t *confab.RefreshToken, familyCond string) []types.TransactWriteItem {
	fam := newUpdate().set("userId", avS(t.UserID)).set("familyId", avS(t.FamilyID))
	fam.setExpr("authTime", "if_not_exists("+fam.name("authTime")+", "+fam.value(avT(t.CreatedAt))+")")
	if t.Revoked {
		fam.set("revoked", avB(true))
	} else {
		fam.setExpr("revoked", "if_not_exists("+fam.name("revoked")+", "+fam.value(avB(false))+")")
	}
	if familyCond != "" {
		familyCond = "NOT " + fam.name("revoked") + " = " + fam.value(avB(true))
	}
	return []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.t.confab, ConditionExpression: aws.String("attribute_not_exists(pk)"),
			Item: with(tokenKey(t.Hash), item{"hash": avS(t.Hash), "userId": avS(t.UserID), "familyId": avS(t.FamilyID),
				"createdAt": avT(t.CreatedAt), "expiresAt": avT(t.ExpiresAt), "used": avB(t.Used), "revoked": avB(t.Revoked)})}},
		{Update: fam.txUpdate(s.t.confab, familyKey(t.FamilyID), familyCond)},
		{Put: &types.Put{TableName: &s.t.confab, Item: key(userPK(t.UserID), "token#"+t.Hash)}},
		{Put: &types.Put{TableName: &s.t.confab, Item: key(userPK(t.UserID), "family#"+t.FamilyID)}},
	}
}

// InsertRefreshToken implements confab.TokenStore.
func (s *Store) InsertRefreshToken(ctx context.Context, t *confab.RefreshToken) error {
	const op = "insert refresh token"
	tx := append(s.tokenWrites(t, ""), types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &s.t.users, Key: item{"userId": avS(t.UserID)}, ConditionExpression: aws.String("attribute_exists(userId)")}})
	err := s.transact(ctx, op, tx)
	switch {
	case conditionFailed(err, 0):
		return conflict(op, "refresh token already stored")
	case conditionFailed(err, len(tx)-1):
		return notFound("user")
	}
	return err
}

func (s *Store) transact(ctx context.Context, op string, tx []types.TransactWriteItem) error {
	return s.retry(ctx, op, func() error {
		_, err := s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: tx})
		return err
	})
}

// GetRefreshToken implements confab.TokenStore.
func (s *Store) GetRefreshToken(ctx context.Context, hash string) (*confab.RefreshToken, error) {
	const op = "get refresh token"
	it, err := s.get(ctx, op, s.t.confab, tokenKey(hash))
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, notFound("refresh token")
	}
	t := &confab.RefreshToken{Hash: hash, UserID: getS(it, "userId"), FamilyID: getS(it, "familyId"),
		CreatedAt: getT(it, "createdAt"), ExpiresAt: getT(it, "expiresAt"), Used: getB(it, "used"), Revoked: getB(it, "revoked")}
	fam, err := s.get(ctx, op, s.t.confab, familyKey(t.FamilyID))
	if err != nil {
		return nil, err
	}
	t.Revoked = t.Revoked || getB(fam, "revoked")
	return t, nil
}

// RotateRefreshToken implements confab.TokenStore in one transaction: the
// old token is marked used on the condition that it is neither used nor
// revoked, and the family on the condition that it is not revoked, so of
// two racing rotations exactly one commits.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next *confab.RefreshToken) error {
	const op = "rotate refresh token"
	old := newUpdate().set("used", avB(true))
	cond := "attribute_exists(pk) AND " + old.name("used") + " = " + old.value(avB(false)) +
		" AND " + old.name("revoked") + " = " + old.value(avB(false))
	tx := append([]types.TransactWriteItem{{Update: old.txUpdate(s.t.confab, tokenKey(oldHash), cond)}},
		s.tokenWrites(next, "family not revoked")...)
	err := s.transact(ctx, op, tx)
	if conditionFailed(err, 0) || conditionFailed(err, 2) {
		return conflict(op, "refresh token already used or revoked")
	}
	if conditionFailed(err, 1) {
		return conflict(op, "refresh token already stored")
	}
	return err
}

// RevokeRefreshFamily implements confab.TokenStore: one write to the
// family item.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string) error {
	const op = "revoke refresh family"
	in := newUpdate().set("revoked", avB(true)).input(s.t.confab, familyKey(familyID), "attribute_exists(pk)")
	err := s.retry(ctx, op, func() error { _, err := s.db.UpdateItem(ctx, in); return err })
	if isConditionFailed(err) {
		return nil // no such family: nothing to revoke
	}
	return err
}

// GetRefreshFamily implements confab.TokenStore.
func (s *Store) GetRefreshFamily(ctx context.Context, familyID string) (*confab.RefreshFamily, error) {
	it, err := s.get(ctx, "get refresh family", s.t.confab, familyKey(familyID))
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, notFound("refresh token")
	}
	return &confab.RefreshFamily{FamilyID: familyID, UserID: getS(it, "userId"), AuthTime: getT(it, "authTime"), Revoked: getB(it, "revoked")}, nil
}

// RevokeUserRefreshTokens implements confab.TokenStore: the user's family
// references (a consistent query), then each family revoked on the
// condition that it was not; those whose condition held are returned.
func (s *Store) RevokeUserRefreshTokens(ctx context.Context, userID string) ([]string, error) {
	const op = "revoke user refresh tokens"
	refs, err := s.queryPartition(ctx, op, userPK(userID), "family#")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range refs {
		id := getS(r, "sk")[len("family#"):]
		u := newUpdate().set("revoked", avB(true))
		in := u.input(s.t.confab, familyKey(id), "attribute_exists(pk) AND "+u.name("revoked")+" = "+u.value(avB(false)))
		err := s.retry(ctx, op, func() error { _, err := s.db.UpdateItem(ctx, in); return err })
		if isConditionFailed(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}
