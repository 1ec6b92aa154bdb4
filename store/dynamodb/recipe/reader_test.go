package recipe_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab/store/dynamodb/recipe"
	"github.com/confab-chat/confab/store/dynamodb/recipe/recipetest"
)

// TestReader_Messages writes messages through the recipe's sendMessage
// shape out of order, two with the same createdAt, plus one damaged item,
// and reads them back in confab's order.
func TestReader_Messages(t *testing.T) {
	d := recipetest.CreateTables(t, recipetest.Client(recipetest.Endpoint(t)), recipetest.Prefix())
	ctx := context.Background()
	r := recipe.New(d.DB, recipe.TableNames(d.Prefix))
	if err := r.Check(ctx); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	cid := d.CreateConversation("u1", nil, []string{"u2"}, t0)
	third := d.SendMessage("u1", cid, "third", "TEXT", t0.Add(3*time.Second))
	firstA := d.SendMessage("u2", cid, "first, a", "TEXT", t0.Add(time.Second))
	firstB := d.SendMessage("u1", cid, "first, b", "IMAGE", t0.Add(time.Second))
	second := d.SendMessage("u2", cid, "second", "FILE", t0.Add(2*time.Second))
	d.SendMessage("u1", "elsewhere", "other conversation", "TEXT", t0)
	d.Put(d.Tables.Messages, map[string]types.AttributeValue{ // no createdAt
		"conversationId": &types.AttributeValueMemberS{Value: cid}, "messageId": &types.AttributeValueMemberS{Value: "broken"},
	})

	msgs, bad, err := r.Messages(ctx, cid)
	if err != nil {
		t.Fatal(err)
	}
	tied := []string{firstA, firstB}
	slices.Sort(tied)
	want := append(tied, second, third)
	var got []string
	for _, m := range msgs {
		got = append(got, m.MessageID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v (createdAt, ties by messageId)", got, want)
	}
	var inv *recipe.Invalid
	if len(bad) != 1 || !errors.As(bad[0], &inv) || inv.Key != cid+"/broken" {
		t.Fatalf("bad = %v, want the item without createdAt", bad)
	}
	counts, err := r.CountMessages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[cid] != 5 || counts["elsewhere"] != 1 || len(counts) != 2 {
		t.Fatalf("CountMessages = %v, want %s: 5, elsewhere: 1", counts, cid)
	}
}

// TestReader_Users reads the items updateUserPresence creates.
func TestReader_Users(t *testing.T) {
	d := recipetest.CreateTables(t, recipetest.Client(recipetest.Endpoint(t)), recipetest.Prefix())
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	d.UpdateUserPresence("sub-b", true, t0)
	d.UpdateUserPresence("sub-a", false, t0.Add(time.Minute))
	accts, bad, err := recipe.New(d.DB, recipe.TableNames(d.Prefix)).Users(context.Background(), t0.Add(time.Hour))
	if err != nil || len(bad) != 0 {
		t.Fatal(err, bad)
	}
	if len(accts) != 2 || accts[0].User.UserID != "sub-a" || !accts[0].User.CreatedAt.Equal(t0.Add(time.Minute)) || accts[1].User.Username != "sub-b" {
		t.Fatalf("users = %+v, %+v; want sub-a then sub-b, created when first seen", accts[0].User, accts[1].User)
	}
}

// TestReader_Check fails on a prefix whose tables do not exist.
func TestReader_Check(t *testing.T) {
	db := recipetest.Client(recipetest.Endpoint(t))
	prefix := recipetest.Prefix()
	err := recipe.New(db, recipe.TableNames(prefix)).Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "there is no table "+prefix+"users") {
		t.Fatalf("Check of missing tables = %v, want one naming the first missing table", err)
	}
}
