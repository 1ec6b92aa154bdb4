package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Index names. The first two and userConversationsIndex are the recipe's.
const (
	messagesByTimeIndex    = "MessagesByTime"
	messagesBySeqIndex     = "MessagesBySeq"
	userConversationsIndex = "UserConversations"
	messagesByAgeIndex     = "MessagesByAge"
	messagesByUserIndex    = "MessagesByUser"
)

// tableSpec is one table as confab creates it.
type tableSpec struct {
	name    string
	attrs   map[string]types.ScalarAttributeType
	hash    string
	rangeK  string // "" when none
	indexes []indexSpec
}

// indexSpec is a global secondary index; include lists the attributes it
// projects besides the keys (nil: all of them, unless keysOnly).
type indexSpec struct {
	name, hash, rangeK string
	include            []string
	keysOnly           bool
}

func (ix indexSpec) projection() *types.Projection {
	if ix.keysOnly {
		return &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}
	}
	if ix.include == nil {
		return &types.Projection{ProjectionType: types.ProjectionTypeAll}
	}
	return &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: ix.include}
}

func (s *Store) tableSpecs() []tableSpec {
	S, N := types.ScalarAttributeTypeS, types.ScalarAttributeTypeN
	return []tableSpec{
		{name: s.t.messages, hash: "conversationId", rangeK: "messageId",
			attrs: map[string]types.ScalarAttributeType{"conversationId": S, "messageId": S, "createdAt": S, "seq": N, "ageBucket": S, "userId": S},
			indexes: []indexSpec{
				{name: messagesByTimeIndex, hash: "conversationId", rangeK: "createdAt"},
				{name: messagesBySeqIndex, hash: "conversationId", rangeK: "seq"},
				// Retention reads only what a purge needs, so the index
				// stores no content.
				{name: messagesByAgeIndex, hash: "ageBucket", rangeK: "createdAt",
					include: []string{"seq", "userId", "deleted", "clientToken"}},
				// A user's messages (export, deletion of their data):
				// keys only, so no update of a message rewrites it.
				{name: messagesByUserIndex, hash: "userId", rangeK: "messageId", keysOnly: true},
			}},
		{name: s.t.conversations, hash: "conversationId",
			attrs:   map[string]types.ScalarAttributeType{"conversationId": S, "userId": S},
			indexes: []indexSpec{{name: userConversationsIndex, hash: "userId", rangeK: "conversationId"}}},
		{name: s.t.users, hash: "userId", attrs: map[string]types.ScalarAttributeType{"userId": S}},
		{name: s.t.confab, hash: "pk", rangeK: "sk", attrs: map[string]types.ScalarAttributeType{"pk": S, "sk": S}},
	}
}

// ensureTables checks that every table and index exists, creating what is
// missing when create is set. A recipe table that lacks confab's index
// (Messages without MessagesBySeq) gets it added in place.
func (s *Store) ensureTables(ctx context.Context, create bool) error {
	for _, spec := range s.tableSpecs() {
		out, err := s.db.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: &spec.name})
		var rnf *types.ResourceNotFoundException
		switch {
		case errors.As(err, &rnf):
			if !create {
				return fmt.Errorf("dynamodb: table %s does not exist (start once with table creation on, or create it as doc.go describes)", spec.name)
			}
			if err := s.createTable(ctx, spec); err != nil {
				return err
			}
		case err != nil:
			return mapErr("describe table "+spec.name, err)
		default:
			if out.Table.TableStatus == types.TableStatusCreating { // another node is creating it
				if err := s.waitTable(ctx, spec.name); err != nil {
					return err
				}
			}
			if err := s.ensureIndexes(ctx, spec, out.Table, create); err != nil {
				return err
			}
		}
	}
	return nil
}

func keySchema(hash, rangeK string) []types.KeySchemaElement {
	ks := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
	if rangeK != "" {
		ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(rangeK), KeyType: types.KeyTypeRange})
	}
	return ks
}

func (spec tableSpec) attributeDefinitions(names ...string) []types.AttributeDefinition {
	var defs []types.AttributeDefinition
	for _, n := range names {
		defs = append(defs, types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: spec.attrs[n]})
	}
	return defs
}

func (s *Store) createTable(ctx context.Context, spec tableSpec) error {
	in := &ddb.CreateTableInput{
		TableName:   &spec.name,
		KeySchema:   keySchema(spec.hash, spec.rangeK),
		BillingMode: types.BillingModePayPerRequest,
	}
	for n := range spec.attrs {
		in.AttributeDefinitions = append(in.AttributeDefinitions, spec.attributeDefinitions(n)...)
	}
	for _, ix := range spec.indexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(ix.name),
			KeySchema:  keySchema(ix.hash, ix.rangeK),
			Projection: ix.projection(),
		})
	}
	if _, err := s.db.CreateTable(ctx, in); err != nil {
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) { // another node creating it at the same time is fine
			return mapErr("create table "+spec.name, err)
		}
	}
	return s.waitTable(ctx, spec.name)
}

// waitTable waits until the table is active.
func (s *Store) waitTable(ctx context.Context, name string) error {
	w := ddb.NewTableExistsWaiter(s.db, func(o *ddb.TableExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	if err := w.Wait(ctx, &ddb.DescribeTableInput{TableName: &name}, 5*time.Minute); err != nil {
		return fmt.Errorf("dynamodb: wait for table %s: %w", name, err)
	}
	return nil
}

// ensureIndexes adds the indexes spec wants that table lacks, one at a
// time (DynamoDB builds one index creation per UpdateTable), and waits
// until each is active.
func (s *Store) ensureIndexes(ctx context.Context, spec tableSpec, table *types.TableDescription, create bool) error {
	have := map[string]bool{}
	for _, g := range table.GlobalSecondaryIndexes {
		have[aws.ToString(g.IndexName)] = true
	}
	for _, ix := range spec.indexes {
		if have[ix.name] {
			continue
		}
		if ix.name == userConversationsIndex {
			continue // the recipe's; confab does not use it
		}
		if !create {
			return fmt.Errorf("dynamodb: table %s lacks index %s (start once with table creation on to add it)", spec.name, ix.name)
		}
		gsi := &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String(ix.name),
			KeySchema:  keySchema(ix.hash, ix.rangeK),
			Projection: ix.projection(),
		}
		if table.BillingModeSummary == nil || table.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			gsi.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
		}
		if _, err := s.db.UpdateTable(ctx, &ddb.UpdateTableInput{
			TableName:                   &spec.name,
			AttributeDefinitions:        spec.attributeDefinitions(ix.hash, ix.rangeK),
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: gsi}},
		}); err != nil {
			return mapErr("add index "+ix.name, err)
		}
		if err := s.waitIndex(ctx, spec.name, ix.name); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) waitIndex(ctx context.Context, table, index string) error {
	for {
		out, err := s.db.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: &table})
		if err != nil {
			return mapErr("wait for index "+index, err)
		}
		for _, g := range out.Table.GlobalSecondaryIndexes {
			if aws.ToString(g.IndexName) == index && g.IndexStatus == types.IndexStatusActive {
				return nil
			}
		}
		if err := sleep(ctx, time.Second); err != nil {
			return fmt.Errorf("dynamodb: wait for index %s: %w", index, err)
		}
	}
}
