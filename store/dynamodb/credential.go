package dynamodb

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// Items under a user's partition of the confab table ("user#<id>"): its
// verification codes (sk "code#<purpose>"), refresh token and family
// references ("token#<hash>", "family#<id>"), memberships
// ("conv#<conversationId>") and connection counts ("conn#<node>"). One
// consistent Query finds all of them.
func userPK(userID string) string { return "user#" + userID }

func codeKey(userID, purpose string) item { return key(userPK(userID), "code#"+purpose) }

// GetCredentials implements confab.CredentialStore; the credentials are
// attributes of the user item.
func (s *Store) GetCredentials(ctx context.Context, userID string) (*confab.Credentials, error) {
	it, err := s.getUserItem(ctx, "get credentials", userID)
	if err != nil {
		return nil, err
	}
	c := &confab.Credentials{UserID: userID, PasswordHash: getS(it, "passwordHash"), Disabled: getB(it, "disabled"),
		Unconfirmed: getB(it, "unconfirmed"), PasswordTemporary: getB(it, "passwordTemporary")}
	if salt, verifier := getSP(it, "srpSalt"), getSP(it, "srpVerifier"); salt != nil && verifier != nil {
		c.SRP = &confab.SRPVerifier{Salt: *salt, Verifier: *verifier}
	}
	return c, nil
}

// UpdateCredentials implements confab.CredentialStore. A new email moves
// the email marker in the same transaction, on a condition that the
// user's email is still the one read (else it reads again).
func (s *Store) UpdateCredentials(ctx context.Context, userID string, u confab.CredentialsUpdate) error {
	const op = "update credentials"
	for range 10 {
		it, err := s.getUserItem(ctx, op, userID)
		if err != nil {
			return err
		}
		ub := newUpdate().set("updatedAt", avT(u.UpdatedAt))
		if u.PasswordHash != nil {
			ub.set("passwordHash", avS(*u.PasswordHash))
		}
		if u.Disabled != nil {
			ub.set("disabled", avB(*u.Disabled))
		}
		if u.Unconfirmed != nil {
			ub.set("unconfirmed", avB(*u.Unconfirmed))
		}
		if u.PasswordTemporary != nil {
			ub.set("passwordTemporary", avB(*u.PasswordTemporary))
		}
		switch {
		case u.SRP != nil:
			ub.set("srpSalt", avS(u.SRP.Salt)).set("srpVerifier", avS(u.SRP.Verifier))
		case u.PasswordHash != nil: // a new password without a verifier drops the old one
			ub.remove("srpSalt").remove("srpVerifier")
		}
		old := getS(it, "email")
		cond := "attribute_exists(userId)"
		var tx []types.TransactWriteItem
		if u.Email != nil {
			ub.set("email", avS(*u.Email))
			cond += " AND " + ub.name("email") + " = " + ub.value(avS(old))
			if !strings.EqualFold(old, *u.Email) {
				tx = append(tx,
					types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.confab, Key: emailKey(old)}},
					types.TransactWriteItem{Put: &types.Put{TableName: &s.t.confab, Item: with(emailKey(*u.Email), item{"userId": avS(userID)}),
						ConditionExpression: aws.String("attribute_not_exists(pk)")}})
			}
		}
		tx = append([]types.TransactWriteItem{{Update: ub.txUpdate(s.t.users, item{"userId": avS(userID)}, cond)}}, tx...)
		err = s.retry(ctx, op, func() error {
			_, err := s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: tx})
			return err
		})
		switch {
		case conditionFailed(err, 2):
			return &confab.Error{Code: confab.CodeConflict, Op: op, Err: err}
		case conditionFailed(err, 0):
			continue // deleted or email changed meanwhile: read again
		}
		return err
	}
	return unavailable(op, errLostRace)
}

// DeleteAccount implements confab.CredentialStore: everything under the
// user's partition, the tokens and families it names, its markers, its
// memberships (the items under its partition), and the user item last. Up
// to 100 items this is one transaction; a user with more (many
// conversations or sessions) is deleted in several, the user item in the
// last, so that a failure leaves an account that can be deleted again.
func (s *Store) DeleteAccount(ctx context.Context, userID string) error {
	const op = "delete account"
	it, err := s.getUserItem(ctx, op, userID)
	if err != nil {
		return err
	}
	owned, err := s.queryPartition(ctx, op, userPK(userID), "")
	if err != nil {
		return err
	}
	var deletes []item
	for _, o := range owned {
		sk := getS(o, "sk")
		deletes = append(deletes, key(userPK(userID), sk))
		switch {
		case strings.HasPrefix(sk, "token#"):
			deletes = append(deletes, tokenKey(strings.TrimPrefix(sk, "token#")))
		case strings.HasPrefix(sk, "family#"):
			deletes = append(deletes, familyKey(strings.TrimPrefix(sk, "family#")))
		case strings.HasPrefix(sk, "conn#"):
			deletes = append(deletes, nodeRefKey(strings.TrimPrefix(sk, "conn#"), userID))
		case strings.HasPrefix(sk, "push#"): // the subscription's own item (push.go)
			deletes = append(deletes, key(sk, "push"))
		}
	}
	deletes = append(deletes, usernameKey(getS(it, "username")), emailKey(getS(it, "email")))
	var tx []types.TransactWriteItem
	for _, k := range deletes {
		tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.confab, Key: k}})
	}
	tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.users, Key: item{"userId": avS(userID)},
		ConditionExpression: aws.String("attribute_exists(userId)")}})
	for chunk := range slices.Chunk(tx, 100) {
		err := s.retry(ctx, op, func() error {
			_, err := s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: chunk})
			return err
		})
		if conditionFailed(err, len(chunk)-1) {
			return notFound("user") // deleted concurrently
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// queryPartition returns every item of the confab table's partition pk
// whose sort key starts with prefix, in sort-key order, with consistent
// reads.
func (s *Store) queryPartition(ctx context.Context, op, pk, prefix string) ([]item, error) {
	in := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: item{":pk": avS(pk)}}
	if prefix != "" {
		in.KeyConditionExpression = aws.String("pk = :pk AND begins_with(sk, :p)")
		in.ExpressionAttributeValues[":p"] = avS(prefix)
	}
	return s.queryAll(ctx, op, in)
}

// queryAll runs a Query to its end, page by page.
func (s *Store) queryAll(ctx context.Context, op string, in *ddb.QueryInput) ([]item, error) {
	var items []item
	p := ddb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		var out *ddb.QueryOutput
		err := s.retry(ctx, op, func() error {
			var err error
			out, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
	}
	return items, nil
}

// ListAccounts implements confab.CredentialStore. DynamoDB has no order
// over hash keys, so this scans the users table (consistent reads) and
// filters and sorts in memory: an administrator's operation, whose cost
// grows with the number of accounts, not with the page.
func (s *Store) ListAccounts(ctx context.Context, f confab.AccountFilter) ([]*confab.Account, error) {
	const op = "list accounts"
	if f.Limit < 1 || f.Limit > confab.MaxPageLimit {
		return nil, &confab.Error{Code: confab.CodeInvalid, Op: op, Err: fmt.Errorf("limit %d is not between 1 and %d", f.Limit, confab.MaxPageLimit)}
	}
	field := map[string]func(*confab.Account) string{
		"":         func(*confab.Account) string { return "" },
		"email":    func(a *confab.Account) string { return strings.ToLower(a.User.Email) },
		"username": func(a *confab.Account) string { return a.User.Username },
		"user_id":  func(a *confab.Account) string { return a.User.UserID },
	}[f.Field]
	if field == nil {
		return nil, &confab.Error{Code: confab.CodeInvalid, Op: op, Err: fmt.Errorf("accounts cannot be filtered on %q", f.Field)}
	}
	want := f.Value
	if f.Field == "email" {
		want = strings.ToLower(want)
	}
	var list []*confab.Account
	p := ddb.NewScanPaginator(s.db, &ddb.ScanInput{TableName: &s.t.users, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		var out *ddb.ScanOutput
		err := s.retry(ctx, op, func() error {
			var err error
			out, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			a := readAccount(it)
			v := field(a)
			if a.User.UserID <= f.After || (f.Field != "" && !(v == want || f.Prefix && strings.HasPrefix(v, want))) {
				continue
			}
			list = append(list, a)
		}
	}
	slices.SortFunc(list, func(a, b *confab.Account) int { return strings.Compare(a.User.UserID, b.User.UserID) })
	return list[:min(len(list), f.Limit)], nil
}

// InsertVerificationCode implements confab.CredentialStore: a put that
// replaces the user's code for the purpose, on a check that the user
// exists.
func (s *Store) InsertVerificationCode(ctx context.Context, c *confab.VerificationCode) error {
	const op = "insert verification code"
	tx := []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.t.users, Key: item{"userId": avS(c.UserID)},
			ConditionExpression: aws.String("attribute_exists(userId)")}},
		{Put: &types.Put{TableName: &s.t.confab, Item: with(codeKey(c.UserID, c.Purpose), item{
			"hash": avS(c.Hash), "expiresAt": avT(c.ExpiresAt), "attempts": avN(int64(c.Attempts))})}},
	}
	err := s.retry(ctx, op, func() error {
		_, err := s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: tx})
		return err
	})
	if conditionFailed(err, 0) {
		return notFound("user")
	}
	return err
}

// GetVerificationCode implements confab.CredentialStore.
func (s *Store) GetVerificationCode(ctx context.Context, userID, purpose string) (*confab.VerificationCode, error) {
	it, err := s.get(ctx, "get verification code", s.t.confab, codeKey(userID, purpose))
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, notFound("code")
	}
	return &confab.VerificationCode{UserID: userID, Purpose: purpose, Hash: getS(it, "hash"),
		ExpiresAt: getT(it, "expiresAt"), Attempts: int(getN(it, "attempts"))}, nil
}

// AddVerificationCodeAttempt implements confab.CredentialStore with an
// atomic ADD.
func (s *Store) AddVerificationCodeAttempt(ctx context.Context, userID, purpose string) (int, error) {
	const op = "add verification code attempt"
	in := newUpdate().add("attempts", 1).input(s.t.confab, codeKey(userID, purpose), "attribute_exists(pk)")
	in.ReturnValues = types.ReturnValueUpdatedNew
	var out *ddb.UpdateItemOutput
	err := s.retry(ctx, op, func() error {
		var err error
		out, err = s.db.UpdateItem(ctx, in)
		return err
	})
	if isConditionFailed(err) {
		return 0, notFound("code")
	}
	if err != nil {
		return 0, err
	}
	return int(getN(out.Attributes, "attempts")), nil
}

// DeleteVerificationCode implements confab.CredentialStore: a delete on
// attribute_exists, so of two concurrent uses exactly one succeeds.
func (s *Store) DeleteVerificationCode(ctx context.Context, userID, purpose string) error {
	const op = "delete verification code"
	err := s.retry(ctx, op, func() error {
		_, err := s.db.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: &s.t.confab, Key: codeKey(userID, purpose),
			ConditionExpression: aws.String("attribute_exists(pk)")})
		return err
	})
	if isConditionFailed(err) {
		return notFound("code")
	}
	return err
}
