package dynamodb

import (
	"fmt"
	"strings"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// update builds an UpdateExpression with placeholder names and values, so
// that no attribute name (some are DynamoDB reserved words: name, seq) or
// value is ever spliced into the expression.
type update struct {
	sets, removes, adds, deletes []string
	names                        map[string]string
	values                       item
}

func newUpdate() *update { return &update{names: map[string]string{}, values: item{}} }

// name returns the placeholder of attribute a.
func (u *update) name(a string) string {
	p := "#" + a
	u.names[p] = a
	return p
}

// value returns a new placeholder bound to v.
func (u *update) value(v types.AttributeValue) string {
	p := fmt.Sprintf(":v%d", len(u.values))
	u.values[p] = v
	return p
}

func (u *update) set(a string, v types.AttributeValue) *update {
	u.sets = append(u.sets, u.name(a)+" = "+u.value(v))
	return u
}

// setExpr sets a to an expression already written with placeholders.
func (u *update) setExpr(a, expr string) *update {
	u.sets = append(u.sets, u.name(a)+" = "+expr)
	return u
}

func (u *update) remove(a string) *update {
	u.removes = append(u.removes, u.name(a))
	return u
}

func (u *update) add(a string, n int64) *update {
	u.adds = append(u.adds, u.name(a)+" "+u.value(avN(n)))
	return u
}

// addSet adds the numbers ns to the number set a.
func (u *update) addSet(a string, ns []int64) *update {
	u.adds = append(u.adds, u.name(a)+" "+u.value(avNS(ns)))
	return u
}

// deleteSet removes the numbers ns from the number set a.
func (u *update) deleteSet(a string, ns []int64) *update {
	u.deletes = append(u.deletes, u.name(a)+" "+u.value(avNS(ns)))
	return u
}

func (u *update) expression() string {
	var parts []string
	if len(u.sets) > 0 {
		parts = append(parts, "SET "+strings.Join(u.sets, ", "))
	}
	if len(u.removes) > 0 {
		parts = append(parts, "REMOVE "+strings.Join(u.removes, ", "))
	}
	if len(u.adds) > 0 {
		parts = append(parts, "ADD "+strings.Join(u.adds, ", "))
	}
	if len(u.deletes) > 0 {
		parts = append(parts, "DELETE "+strings.Join(u.deletes, ", "))
	}
	return strings.Join(parts, " ")
}

// input returns the UpdateItem call; cond (may be "") is written with the
// same placeholders (u.name, u.value).
func (u *update) input(table string, k item, cond string) *ddb.UpdateItemInput {
	in := &ddb.UpdateItemInput{TableName: &table, Key: k, UpdateExpression: strPtr(u.expression()),
		ExpressionAttributeNames: u.names}
	if len(u.values) > 0 {
		in.ExpressionAttributeValues = u.values
	}
	if cond != "" {
		in.ConditionExpression = &cond
	}
	return in
}

// txUpdate is input as a transaction item.
func (u *update) txUpdate(table string, k item, cond string) *types.Update {
	in := u.input(table, k, cond)
	return &types.Update{TableName: in.TableName, Key: in.Key, UpdateExpression: in.UpdateExpression,
		ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.ExpressionAttributeValues,
		ConditionExpression: in.ConditionExpression}
}

func strPtr(s string) *string { return &s }
