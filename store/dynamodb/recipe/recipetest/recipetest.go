// Package recipetest creates the AppSync chat recipe's tables in DynamoDB
// Local and writes items into them exactly as the recipe's resolvers do
// (seed/000_507222aa2a906945.txt: the create-table commands and the VTL
// request templates), for the tests of package recipe and of
// `confab migrate --from-dynamodb`. Only tests import it.
package recipetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
)

// Endpoint returns the DynamoDB Local URL of CONFAB_TEST_DYNAMODB. Unset,
// the test is skipped, or fails when CONFAB_TEST_REQUIRE is "all" or names
// dynamodb (as .ci/run sets it): a missing service never passes silently.
func Endpoint(t *testing.T) string {
	t.Helper()
	url := os.Getenv("CONFAB_TEST_DYNAMODB")
	if url == "" {
		for _, name := range strings.FieldsFunc(os.Getenv("CONFAB_TEST_REQUIRE"), func(r rune) bool { return r == ',' || r == ' ' }) {
			if name == "all" || name == "dynamodb" {
				t.Fatal("CONFAB_TEST_DYNAMODB is unset and CONFAB_TEST_REQUIRE asks for dynamodb")
			}
		}
		t.Skip("CONFAB_TEST_DYNAMODB is unset: start store/dynamodb/testdata/start-dynamodb.sh and export its URL")
	}
	return url
}

// Client returns a client of DynamoDB Local at endpoint with dummy
// credentials (DynamoDB Local accepts any).
func Client(endpoint string) *ddb.Client {
	return ddb.New(ddb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// Prefix returns a table prefix of its own for one test, shaped like the
// recipe's "${CHAT_APP_NAME}-".
func Prefix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "chat-app-" + hex.EncodeToString(b) + "-"
}

// Deployment is a recipe deployment's tables in DynamoDB Local, written
// through the recipe's resolvers. (The table names are spelled out here
// rather than taken from package recipe: a store package imports no other.)
type Deployment struct {
	DB     *ddb.Client
	Prefix string
	Tables struct{ Messages, Conversations, Users string }
	t      *testing.T
}

// CreateTables creates the recipe's three tables and indexes (its
// create-table commands, step 2) under prefix and deletes them when the
// test ends.
func CreateTables(t *testing.T, db *ddb.Client, prefix string) *Deployment {
	t.Helper()
	d := &Deployment{DB: db, Prefix: prefix, t: t}
	d.Tables.Messages, d.Tables.Conversations, d.Tables.Users = prefix+"messages", prefix+"conversations", prefix+"users"
	tables := d.Tables
	ctx := context.Background()
	tp := &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	attr := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(hash, rng string) []types.KeySchemaElement {
		k := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
		if rng != "" {
			k = append(k, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
		}
		return k
	}
	gsi := func(name, hash, rng string) []types.GlobalSecondaryIndex {
		return []types.GlobalSecondaryIndex{{IndexName: aws.String(name), KeySchema: key(hash, rng),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}, ProvisionedThroughput: tp}}
	}
	for _, in := range []*ddb.CreateTableInput{
		{TableName: aws.String(tables.Messages), AttributeDefinitions: []types.AttributeDefinition{attr("conversationId"), attr("messageId"), attr("createdAt")},
			KeySchema: key("conversationId", "messageId"), GlobalSecondaryIndexes: gsi("MessagesByTime", "conversationId", "createdAt"), ProvisionedThroughput: tp},
		{TableName: aws.String(tables.Conversations), AttributeDefinitions: []types.AttributeDefinition{attr("conversationId"), attr("userId")},
			KeySchema: key("conversationId", ""), GlobalSecondaryIndexes: gsi("UserConversations", "userId", "conversationId"), ProvisionedThroughput: tp},
		{TableName: aws.String(tables.Users), AttributeDefinitions: []types.AttributeDefinition{attr("userId")},
			KeySchema: key("userId", ""), ProvisionedThroughput: tp},
	} {
		if _, err := db.CreateTable(ctx, in); err != nil {
			t.Fatalf("create table %s: %v", *in.TableName, err)
		}
		name := *in.TableName
		t.Cleanup(func() { db.DeleteTable(context.Background(), &ddb.DeleteTableInput{TableName: aws.String(name)}) })
	}
	return d
}

// ISO8601 formats at as $util.time.nowISO8601() does: UTC, milliseconds.
func ISO8601(at time.Time) string {
	return at.UTC().Format("2006-01-02T15:04:05.000Z")
}

// s and null are what $util.dynamodb.toDynamoDBJson makes of a string and
// of an absent argument.
func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

var null types.AttributeValue = &types.AttributeValueMemberNULL{Value: true}

// SendMessage performs the sendMessage resolver: PutItem of a message with
// a random messageId ($util.autoId()), the caller's sub as userId, and
// createdAt = updatedAt = at. It returns the messageId.
func (d *Deployment) SendMessage(sub, conversationID, content, messageType string, at time.Time) string {
	id := uuid.NewString()
	d.Put(d.Tables.Messages, map[string]types.AttributeValue{
		"conversationId": s(conversationID),
		"messageId":      s(id),
		"userId":         s(sub),
		"content":        s(content),
		"messageType":    s(messageType),
		"createdAt":      s(ISO8601(at)),
		"updatedAt":      s(ISO8601(at)),
	})
	return id
}

// CreateConversation performs the createConversation resolver: PutItem
// with a random conversationId, name (NULL when nil), participants as a
// list, the caller's sub as createdBy and a messageCount of 0. It returns
// the conversationId.
func (d *Deployment) CreateConversation(sub string, name *string, participants []string, at time.Time) string {
	id := uuid.NewString()
	nameAV := null
	if name != nil {
		nameAV = s(*name)
	}
	list := make([]types.AttributeValue, len(participants))
	for i, p := range participants {
		list[i] = s(p)
	}
	d.Put(d.Tables.Conversations, map[string]types.AttributeValue{
		"conversationId": s(id),
		"name":           nameAV,
		"participants":   &types.AttributeValueMemberL{Value: list},
		"createdBy":      s(sub),
		"createdAt":      s(ISO8601(at)),
		"updatedAt":      s(ISO8601(at)),
		"messageCount":   &types.AttributeValueMemberN{Value: "0"},
	})
	return id
}

// UpdateUserPresence performs the updateUserPresence resolver: an
// UpdateItem that creates the Users item when missing, so the item holds
// nothing but userId, isOnline, lastSeen and updatedAt.
func (d *Deployment) UpdateUserPresence(userID string, isOnline bool, at time.Time) {
	d.t.Helper()
	_, err := d.DB.UpdateItem(context.Background(), &ddb.UpdateItemInput{
		TableName:        aws.String(d.Tables.Users),
		Key:              map[string]types.AttributeValue{"userId": s(userID)},
		UpdateExpression: aws.String("SET isOnline = :isOnline, lastSeen = :lastSeen, updatedAt = :updatedAt"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":isOnline":  &types.AttributeValueMemberBOOL{Value: isOnline},
			":lastSeen":  s(ISO8601(at)),
			":updatedAt": s(ISO8601(at)),
		},
	})
	if err != nil {
		d.t.Fatalf("updateUserPresence: %v", err)
	}
}

// Put writes one raw item, for shapes the recipe's resolvers do not make
// (a profile writer a deployment added, a damaged item).
func (d *Deployment) Put(table string, item map[string]types.AttributeValue) {
	d.t.Helper()
	if _, err := d.DB.PutItem(context.Background(), &ddb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		d.t.Fatalf("put into %s: %v", table, err)
	}
}
