package dynamodb_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/dynamodb"
	"github.com/confab-chat/confab/store/storetest"
)

const region = "us-east-1"

// endpoint returns CONFAB_TEST_DYNAMODB. When it is unset the test is
// skipped, or fails when CONFAB_TEST_REQUIRE is "all" or a list naming
// dynamodb, as CI sets it.
func endpoint(t *testing.T) string {
	t.Helper()
	u := os.Getenv("CONFAB_TEST_DYNAMODB")
	if u != "" {
		return u
	}
	const msg = "CONFAB_TEST_DYNAMODB is unset: start DynamoDB Local with store/dynamodb/testdata/start-dynamodb.sh and export the URL it prints"
	for _, name := range strings.FieldsFunc(os.Getenv("CONFAB_TEST_REQUIRE"), func(r rune) bool { return r == ',' || r == ' ' }) {
		if name == "all" || name == "dynamodb" {
			t.Fatal(msg + " (CONFAB_TEST_REQUIRE asks for dynamodb)")
		}
	}
	t.Skip(msg)
	return ""
}

// freshPrefix returns a table prefix no other test uses, and deletes its
// tables when the test ends.
func freshPrefix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "test-" + hex.EncodeToString(b) + "-"
	t.Cleanup(func() { dropTables(t, prefix) })
	return prefix
}

func rawClient(t *testing.T) *ddb.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	return ddb.NewFromConfig(cfg, func(o *ddb.Options) { o.BaseEndpoint = aws.String(endpoint(t)) })
}

func dropTables(t *testing.T, prefix string) {
	c := rawClient(t)
	for _, name := range []string{"messages", "conversations", "users", "confab"} {
		if _, err := c.DeleteTable(context.Background(), &ddb.DeleteTableInput{TableName: aws.String(prefix + name)}); err != nil {
			t.Logf("delete table %s%s: %v", prefix, name, err)
		}
	}
}

func openPrefix(t *testing.T, prefix string) *dynamodb.Store {
	t.Helper()
	s, err := dynamodb.Open(t.Context(), dynamodb.Config{Region: region, Endpoint: endpoint(t), TablePrefix: prefix, CreateTables: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func open(t *testing.T) *dynamodb.Store {
	t.Helper()
	return openPrefix(t, freshPrefix(t))
}

func TestStore_Contract(t *testing.T) {
	endpoint(t)
	storetest.Run(t, func(t *testing.T) confab.Store { return open(t) })
}
