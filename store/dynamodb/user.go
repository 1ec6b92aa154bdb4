package dynamodb

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// Uniqueness markers in the confab table: one item per lowercased username
// and per lowercased email, holding the owner's userId, put on
// attribute_not_exists in the same transaction as the user. Usernames are
// unique whatever their case, as on the other stores; a sign-in by username
// finds the account whatever case is typed.
func usernameKey(username string) item { return key("username#"+strings.ToLower(username), "-") }
func emailKey(email string) item       { return key("email#"+strings.ToLower(email), "-") }

func userItem(a *confab.Account) item {
	u := a.User
	it := item{
		"userId": avS(u.UserID), "username": avS(u.Username), "email": avS(u.Email),
		"isOnline": avB(u.IsOnline), "createdAt": avT(u.CreatedAt),
		"passwordHash": avS(a.PasswordHash), "disabled": avB(a.Disabled),
		"hidePresence": avB(u.HidePresence), "hideReadReceipts": avB(u.HideReadReceipts),
	}
	putOpt(it, "displayName", u.DisplayName, avS)
	putOpt(it, "avatarUrl", u.AvatarURL, avS)
	putOpt(it, "lastSeen", u.LastSeen, avT)
	putOpt(it, "updatedAt", u.UpdatedAt, avT)
	if u.AddPolicy != "" {
		it["addPolicy"] = avS(string(u.AddPolicy))
	}
	if u.Admin {
		it["admin"] = avB(true)
	}
	return it
}

func readUser(it item) *confab.User {
	return &confab.User{
		UserID: getS(it, "userId"), Username: getS(it, "username"), Email: getS(it, "email"),
		DisplayName: getSP(it, "displayName"), AvatarURL: getSP(it, "avatarUrl"),
		IsOnline: getB(it, "isOnline"), LastSeen: getTP(it, "lastSeen"),
		CreatedAt: getT(it, "createdAt"), UpdatedAt: getTP(it, "updatedAt"),
		HidePresence: getB(it, "hidePresence"), HideReadReceipts: getB(it, "hideReadReceipts"),
		AddPolicy: confab.AddPolicy(getS(it, "addPolicy")), Admin: getB(it, "admin"),
	}
}

func readAccount(it item) *confab.Account {
	return &confab.Account{User: *readUser(it), PasswordHash: getS(it, "passwordHash"), Disabled: getB(it, "disabled")}
}

// InsertAccount implements confab.UserStore: the user, its two
// uniqueness markers and the user.created outbox event in one transaction.
func (s *Store) InsertAccount(ctx context.Context, a *confab.Account) error {
	const op = "insert account"
	owner := item{"userId": avS(a.User.UserID)}
	tx := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.t.users, Item: userItem(a), ConditionExpression: aws.String("attribute_not_exists(userId)")}},
		{Put: &types.Put{TableName: &s.t.confab, Item: with(usernameKey(a.User.Username), owner), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: &s.t.confab, Item: with(emailKey(a.User.Email), owner), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		s.newOutboxPut(confab.NewUserEvent(&a.User)),
	}
	err := s.retry(ctx, op, func() error {
		_, err := s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: tx})
		return err
	})
	if conditionFailed(err, 0) || conditionFailed(err, 1) || conditionFailed(err, 2) {
		return conflict(op, "user id, username or email already taken")
	}
	return err
}

// with returns a copy of a with b's attributes added.
func with(a, b item) item {
	out := make(item, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// get reads one item with a consistent read; nil when it is missing.
func (s *Store) get(ctx context.Context, op, table string, k item) (item, error) {
	var out *ddb.GetItemOutput
	err := s.retry(ctx, op, func() error {
		var err error
		out, err = s.db.GetItem(ctx, &ddb.GetItemInput{TableName: &table, Key: k, ConsistentRead: aws.Bool(true)})
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

func (s *Store) getUserItem(ctx context.Context, op, userID string) (item, error) {
	it, err := s.get(ctx, op, s.t.users, item{"userId": avS(userID)})
	if err == nil && it == nil {
		err = notFound("user")
	}
	return it, err
}

// GetAccountByLogin implements confab.UserStore: the email marker first
// (an email wins over a username), then the username marker.
func (s *Store) GetAccountByLogin(ctx context.Context, login string) (*confab.Account, error) {
	const op = "get account"
	for _, k := range []item{emailKey(login), usernameKey(login)} {
		m, err := s.get(ctx, op, s.t.confab, k)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		it, err := s.get(ctx, op, s.t.users, item{"userId": m["userId"]})
		if err != nil {
			return nil, err
		}
		if it != nil {
			return readAccount(it), nil
		}
	}
	return nil, notFound("user")
}

// GetUser implements confab.UserStore.
func (s *Store) GetUser(ctx context.Context, userID string) (*confab.User, error) {
	it, err := s.getUserItem(ctx, "get user", userID)
	if err != nil {
		return nil, err
	}
	return readUser(it), nil
}

// GetUsers implements confab.UserStore with consistent BatchGetItem.
func (s *Store) GetUsers(ctx context.Context, ids []string) ([]*confab.User, error) {
	keys := make([]item, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, item{"userId": avS(id)})
		}
	}
	items, err := s.batchGet(ctx, "get users", s.t.users, keys)
	if err != nil {
		return nil, err
	}
	users := make([]*confab.User, len(items))
	for i, it := range items {
		users[i] = readUser(it)
	}
	return users, nil
}

// batchGet reads keys (distinct) with consistent reads, 100 a call,
// retrying what DynamoDB leaves unprocessed. Missing items are left out.
// With attrs, only those attributes are read.
func (s *Store) batchGet(ctx context.Context, op, table string, keys []item, attrs ...string) ([]item, error) {
	var items []item
	for len(keys) > 0 {
		n := min(len(keys), 100)
		ka := types.KeysAndAttributes{Keys: keys[:n], ConsistentRead: aws.Bool(true)}
		if len(attrs) > 0 {
			ka.ExpressionAttributeNames = map[string]string{}
			var proj []string
			for i, a := range attrs {
				p := fmt.Sprintf("#a%d", i)
				ka.ExpressionAttributeNames[p] = a
				proj = append(proj, p)
			}
			ka.ProjectionExpression = aws.String(strings.Join(proj, ", "))
		}
		pending := map[string]types.KeysAndAttributes{table: ka}
		keys = keys[n:]
		err := s.retry(ctx, op, func() error {
			out, err := s.db.BatchGetItem(ctx, &ddb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return err
			}
			items = append(items, out.Responses[table]...)
			if len(out.UnprocessedKeys) > 0 && len(out.UnprocessedKeys[table].Keys) > 0 {
				pending = out.UnprocessedKeys
				return errLostRace // throttled: back off and ask again for the rest
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return items, nil
}

// UpdateUser implements confab.UserStore.
func (s *Store) UpdateUser(ctx context.Context, userID string, u confab.UserUpdate) (*confab.User, error) {
	const op = "update user"
	ub := newUpdate().set("updatedAt", avT(u.UpdatedAt))
	if u.DisplayName != nil {
		ub.set("displayName", avS(*u.DisplayName))
	}
	if u.AvatarURL != nil {
		ub.set("avatarUrl", avS(*u.AvatarURL))
	}
	if u.IsOnline != nil {
		ub.set("isOnline", avB(*u.IsOnline))
	}
	if u.LastSeen != nil {
		ub.set("lastSeen", avT(*u.LastSeen))
	}
	if u.HidePresence != nil {
		ub.set("hidePresence", avB(*u.HidePresence))
	}
	if u.HideReadReceipts != nil {
		ub.set("hideReadReceipts", avB(*u.HideReadReceipts))
	}
	if u.AddPolicy != nil {
		ub.set("addPolicy", avS(string(*u.AddPolicy)))
	}
	if u.Admin != nil {
		ub.set("admin", avB(*u.Admin))
	}
	in := ub.input(s.t.users, item{"userId": avS(userID)}, "attribute_exists(userId)")
	in.ReturnValues = types.ReturnValueAllNew
	var out *ddb.UpdateItemOutput
	err := s.retry(ctx, op, func() error {
		var err error
		out, err = s.db.UpdateItem(ctx, in)
		return err
	})
	if isConditionFailed(err) {
		return nil, notFound("user")
	}
	if err != nil {
		return nil, err
	}
	return readUser(out.Attributes), nil
}
