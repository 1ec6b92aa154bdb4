package recipe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// Tables names the recipe's three tables.
type Tables struct {
	Messages, Conversations, Users string
}

// TableNames returns the tables of the deployment whose names start with
// prefix. The recipe names them "${CHAT_APP_NAME}-messages",
// "-conversations" and "-users", so its prefix is "${CHAT_APP_NAME}-".
func TableNames(prefix string) Tables {
	return Tables{Messages: prefix + "messages", Conversations: prefix + "conversations", Users: prefix + "users"}
}

// Reader reads a recipe deployment. Safe for concurrent use.
type Reader struct {
	db     *ddb.Client
	tables Tables
}

// New returns a Reader of tables through db.
func New(db *ddb.Client, tables Tables) *Reader {
	return &Reader{db: db, tables: tables}
}

// Tables returns the tables r reads.
func (r *Reader) Tables() Tables { return r.tables }

// Check reports an error naming the first of the three tables that does
// not exist or cannot be described, so that a wrong prefix or region
// fails before anything is read.
func (r *Reader) Check(ctx context.Context) error {
	for _, name := range []string{r.tables.Users, r.tables.Conversations, r.tables.Messages} {
		_, err := r.db.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: aws.String(name)})
		var missing *types.ResourceNotFoundException
		if errors.As(err, &missing) {
			return fmt.Errorf("recipe: there is no table %s here (check the table prefix, region and endpoint)", name)
		}
		if err != nil {
			return fmt.Errorf("recipe: table %s: %w", name, err)
		}
	}
	return nil
}

// Users returns the account of each item of the Users table (see account:
// no password, gaps filled, now as the creation time of last resort), in
// userId order; items confab cannot hold come back as *Invalid in bad.
func (r *Reader) Users(ctx context.Context, now time.Time) (accts []*confab.Account, bad []error, err error) {
	err = r.scan(ctx, r.tables.Users, "", func(av map[string]types.AttributeValue) error {
		a, err := account(r.tables.Users, av, now)
		if err != nil {
			bad = append(bad, err)
		} else {
			accts = append(accts, a)
		}
		return nil
	})
	slices.SortFunc(accts, func(a, b *confab.Account) int { return cmp.Compare(a.User.UserID, b.User.UserID) })
	return accts, bad, err
}

// Conversations returns every conversation, oldest first (ties by id), each
// with its members; items confab cannot hold come back as *Invalid in bad.
func (r *Reader) Conversations(ctx context.Context) (convs []*confab.Conversation, bad []error, err error) {
	err = r.scan(ctx, r.tables.Conversations, "", func(av map[string]types.AttributeValue) error {
		c, err := conversation(r.tables.Conversations, av)
		if err != nil {
			bad = append(bad, err)
		} else {
			convs = append(convs, c)
		}
		return nil
	})
	slices.SortFunc(convs, func(a, b *confab.Conversation) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ConversationID, b.ConversationID))
	})
	return convs, bad, err
}

// Messages returns the messages of one conversation in the order confab
// numbers them: createdAt, ties broken by messageId. The order depends on
// the data alone, so a second run assigns the same seqs. It reads the table
// itself with consistent reads (the MessagesByTime index is eventually
// consistent) and holds the conversation's messages in memory to sort them.
func (r *Reader) Messages(ctx context.Context, conversationID string) (msgs []*confab.Message, bad []error, err error) {
	p := ddb.NewQueryPaginator(r.db, &ddb.QueryInput{
		TableName:                 aws.String(r.tables.Messages),
		KeyConditionExpression:    aws.String("conversationId = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: conversationID}},
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("recipe: query %s: %w", r.tables.Messages, err)
		}
		for _, av := range page.Items {
			m, err := message(r.tables.Messages, av)
			if err != nil {
				bad = append(bad, err)
			} else {
				msgs = append(msgs, m)
			}
		}
	}
	slices.SortFunc(msgs, func(a, b *confab.Message) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.MessageID, b.MessageID))
	})
	return msgs, bad, nil
}

// CountMessages returns how many items of the Messages table each
// conversationId has. It scans the whole table (reading only that
// attribute), so that messages of a conversation the Conversations table
// lacks (the recipe's sendMessage never checks) are seen and reported.
func (r *Reader) CountMessages(ctx context.Context) (map[string]int, error) {
	n := map[string]int{}
	err := r.scan(ctx, r.tables.Messages, "conversationId", func(av map[string]types.AttributeValue) error {
		if s, ok := av["conversationId"].(*types.AttributeValueMemberS); ok {
			n[s.Value]++
		} else {
			n[""]++
		}
		return nil
	})
	return n, err
}

// scan calls fn for each item of table, projected to projection when it
// is not empty. Consistent reads, so a migration run after the last write
// sees it.
func (r *Reader) scan(ctx context.Context, table, projection string, fn func(map[string]types.AttributeValue) error) error {
	in := &ddb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	if projection != "" {
		in.ProjectionExpression = aws.String(projection)
	}
	p := ddb.NewScanPaginator(r.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("recipe: scan %s: %w", table, err)
		}
		for _, av := range page.Items {
			if err := fn(av); err != nil {
				return err
			}
		}
	}
	return nil
}
