package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// TestWorkspace_IsolationDynamoDB is TestWorkspace_Isolation on DynamoDB:
// each workspace's tables are <prefix>ws-<id>-….
func TestWorkspace_IsolationDynamoDB(t *testing.T) {
	storeArgs := dynamoStoreArgs(t)
	prefix := storeArgs[len(storeArgs)-1]
	t.Cleanup(func() { dropDynamoTables(os.Getenv("CONFAB_TEST_DYNAMODB"), prefix+"ws-") })
	root := runMain(t, append([]string{"--workspaces", writeWorkspaces(t, "acme", "globex"), "--sends-per-second", "-1"}, storeArgs...)...)
	testWorkspaceIsolation(t, root, storeArgs, "acme", "globex")
}

// dropDynamoTables deletes the tables whose names start with prefix.
func dropDynamoTables(endpoint, prefix string) {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		return
	}
	c := ddb.NewFromConfig(cfg, func(o *ddb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	p := ddb.NewListTablesPaginator(c, &ddb.ListTablesInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return
		}
		for _, name := range out.TableNames {
			if strings.HasPrefix(name, prefix) {
				c.DeleteTable(ctx, &ddb.DeleteTableInput{TableName: aws.String(name)})
			}
		}
	}
}
