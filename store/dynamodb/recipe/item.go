package recipe

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// PlaceholderEmailDomain is the domain of the address an account gets when
// the recipe holds no email for it (the recipe keeps emails in Cognito, not
// in DynamoDB): userId@migrated.invalid. ".invalid" is reserved (RFC 2606),
// so no mail is ever sent there; an administrator sets the real address.
const PlaceholderEmailDomain = "migrated.invalid"

// Invalid is an item that confab cannot hold unchanged, with the reason.
type Invalid struct {
	Table  string // the table's name
	Key    string // the item's key, "conversationId/messageId" for a message
	Reason string
}

func (e *Invalid) Error() string {
	return fmt.Sprintf("recipe: %s item %q: %s", e.Table, e.Key, e.Reason)
}

// item is one DynamoDB item with typed, checked accessors. The first
// problem found is kept in err, so a mapping reads straight through and
// checks once at the end.
type item struct {
	av  map[string]types.AttributeValue
	err error
}

func (it *item) fail(format string, args ...any) {
	if it.err == nil {
		it.err = fmt.Errorf(format, args...)
	}
}

// str returns the string attribute name, or "" when it is missing or NULL
// (what $util.dynamodb.toDynamoDBJson makes of an absent argument).
func (it *item) str(name string, maxBytes int) string {
	switch v := it.av[name].(type) {
	case nil, *types.AttributeValueMemberNULL:
		return ""
	case *types.AttributeValueMemberS:
		if !confab.ValidText(v.Value, maxBytes) {
			it.fail("%s is not valid text of at most %d bytes", name, maxBytes)
		}
		return v.Value
	}
	it.fail("%s is not a string", name)
	return ""
}

// optStr is str with "" as nil.
func (it *item) optStr(name string, maxBytes int) *string {
	if s := it.str(name, maxBytes); s != "" {
		return &s
	}
	return nil
}

// id returns the required id attribute name.
func (it *item) id(name string) string {
	s := it.str(name, confab.MaxIDBytes)
	if s == "" {
		it.fail("%s is missing", name)
	}
	return s
}

// time returns the ISO 8601 time attribute name ($util.time.nowISO8601()),
// in UTC at the millisecond precision confab stores; nil when missing.
func (it *item) time(name string) *time.Time {
	s := it.str(name, 64)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		it.fail("%s %q is not an ISO 8601 date-time", name, s)
		return nil
	}
	t = t.UTC().Truncate(time.Millisecond)
	return &t
}

// ids returns the string list (or string set) attribute name.
func (it *item) ids(name string) []string {
	switch v := it.av[name].(type) {
	case nil, *types.AttributeValueMemberNULL:
		return nil
	case *types.AttributeValueMemberSS:
		return v.Value
	case *types.AttributeValueMemberL:
		out := make([]string, 0, len(v.Value))
		for _, e := range v.Value {
			s, ok := e.(*types.AttributeValueMemberS)
			if !ok {
				it.fail("%s holds a value that is not a string", name)
				return nil
			}
			out = append(out, s.Value)
		}
		return out
	}
	it.fail("%s is not a list", name)
	return nil
}

// message maps an item of the Messages table. A missing messageType is
// TEXT, the schema's default.
func message(table string, av map[string]types.AttributeValue) (*confab.Message, error) {
	it := &item{av: av}
	m := &confab.Message{
		ConversationID: it.id("conversationId"),
		MessageID:      it.id("messageId"),
		UserID:         it.id("userId"),
		Content:        it.str("content", confab.DefaultMaxContentBytes),
		MessageType:    confab.MessageType(it.str("messageType", 16)),
		UpdatedAt:      it.time("updatedAt"),
	}
	if m.MessageType == "" {
		m.MessageType = confab.MessageText
	}
	if !m.MessageType.Valid() {
		it.fail("messageType %q is not one of the schema's", m.MessageType)
	}
	if at := it.time("createdAt"); at != nil {
		m.CreatedAt = *at
	} else {
		it.fail("createdAt is missing")
	}
	if it.err != nil {
		return nil, &Invalid{Table: table, Key: m.ConversationID + "/" + m.MessageID, Reason: it.err.Error()}
	}
	m.UpdatedAt = changed(m.CreatedAt, m.UpdatedAt)
	return m, nil
}

// conversation maps an item of the Conversations table. The members are
// the participants and the creator (confab's conversations include their
// creator), each joined at the conversation's createdAt.
func conversation(table string, av map[string]types.AttributeValue) (*confab.Conversation, error) {
	it := &item{av: av}
	c := &confab.Conversation{
		ConversationID: it.id("conversationId"),
		Name:           it.optStr("name", confab.MaxConversationName),
		CreatedBy:      it.id("createdBy"),
		UpdatedAt:      it.time("updatedAt"),
	}
	if at := it.time("createdAt"); at != nil {
		c.CreatedAt = *at
	} else {
		it.fail("createdAt is missing")
	}
	ids := slices.Concat([]string{c.CreatedBy}, it.ids("participants"))
	for _, id := range ids {
		if id == "" || !confab.ValidText(id, confab.MaxIDBytes) {
			it.fail("participant %q is not a valid user id", id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > confab.MaxParticipants {
		it.fail("%d members, more than confab's %d", len(ids), confab.MaxParticipants)
	}
	if it.err != nil {
		return nil, &Invalid{Table: table, Key: c.ConversationID, Reason: it.err.Error()}
	}
	for _, id := range ids {
		c.Members = append(c.Members, confab.Member{UserID: id, JoinedAt: c.CreatedAt})
	}
	c.UpdatedAt = changed(c.CreatedAt, c.UpdatedAt)
	return c, nil
}

// changed returns updated unless it is created: the recipe sets updatedAt
// at creation, confab only when something changes afterwards (a client
// may show a message with an updatedAt as edited).
func changed(created time.Time, updated *time.Time) *time.Time {
	if updated != nil && updated.Equal(created) {
		return nil
	}
	return updated
}

// account maps an item of the Users table to an account without a
// password. What the item lacks is filled in: the username is the userId
// (the Cognito sub), the email a placeholder (PlaceholderEmailDomain), createdAt
// the earliest of its other times, else now. Presence starts offline.
func account(table string, av map[string]types.AttributeValue, now time.Time) (*confab.Account, error) {
	it := &item{av: av}
	u := confab.User{
		UserID:      it.id("userId"),
		Username:    it.str("username", confab.MaxUsernameBytes),
		Email:       strings.ToLower(strings.TrimSpace(it.str("email", confab.MaxEmailBytes))),
		DisplayName: it.optStr("displayName", confab.MaxDisplayNameBytes),
		AvatarURL:   it.optStr("avatarUrl", confab.MaxAvatarURLBytes),
		LastSeen:    it.time("lastSeen"),
		UpdatedAt:   it.time("updatedAt"),
	}
	created := it.time("createdAt")
	if it.err != nil {
		return nil, &Invalid{Table: table, Key: u.UserID, Reason: it.err.Error()}
	}
	a := StubAccount(u.UserID, now)
	if created != nil {
		a.User.CreatedAt = *created
	} else {
		for _, t := range []*time.Time{u.UpdatedAt, u.LastSeen} {
			if t != nil && t.Before(a.User.CreatedAt) {
				a.User.CreatedAt = *t
			}
		}
	}
	u.CreatedAt = a.User.CreatedAt
	if u.Username == "" {
		u.Username = a.User.Username
	}
	if u.Email == "" {
		u.Email = a.User.Email
	}
	if err := checkAccount(u); err != nil {
		return nil, &Invalid{Table: table, Key: u.UserID, Reason: err.Error()}
	}
	a.User = u
	return a, nil
}

// StubAccount is the account of a user the recipe's tables name (as a
// participant, creator or author) but hold no Users item for: the
// recipe's own resolvers never create one. Its username is the userId and
// its email a placeholder; it has no password.
func StubAccount(userID string, createdAt time.Time) *confab.Account {
	return &confab.Account{User: confab.User{
		UserID:    userID,
		Username:  userID,
		Email:     strings.ToLower(userID) + "@" + PlaceholderEmailDomain,
		CreatedAt: createdAt.UTC().Truncate(time.Millisecond),
	}}
}

// CheckAccount reports why confab's sign-in could not use a's username or
// email (the rules of auth's sign-up: usernames of ASCII letters, digits
// and . _ - @ +; a bare, lowercase email address), nil when it can.
func CheckAccount(a *confab.Account) error { return checkAccount(a.User) }

func checkAccount(u confab.User) error {
	if !validUsername(u.Username) {
		return fmt.Errorf("username %q is not a valid confab username", u.Username)
	}
	a, err := mail.ParseAddress(u.Email)
	if err != nil || a.Name != "" || a.Address != u.Email || strings.ToLower(u.Email) != u.Email || len(u.Email) > confab.MaxEmailBytes {
		return fmt.Errorf("email %q is not a valid lowercase address", u.Email)
	}
	return nil
}

// validUsername is auth's rule for usernames: 1 to MaxUsernameBytes ASCII
// letters, digits and . _ - @ +.
func validUsername(u string) bool {
	if u == "" || len(u) > confab.MaxUsernameBytes {
		return false
	}
	for _, r := range u {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@+", r)
		if !ok {
			return false
		}
	}
	return true
}
