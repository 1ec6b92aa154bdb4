package graph_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/confab-chat/confab/graph"
	"github.com/confab-chat/confab/graph/generated"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestSchema_SeedServedUnchanged checks that every type, field, argument,
// input field and enum value of the recipe's schema is served with the same
// type: confab's changes are additive only. testdata/seed.graphqls is a
// byte-for-byte copy of shared/seed/chat-schema.graphql.
func TestSchema_SeedServedUnchanged(t *testing.T) {
	seedSrc, err := os.ReadFile(filepath.Join("testdata", "seed.graphqls"))
	if err != nil {
		t.Fatal(err)
	}
	if shared, err := os.ReadFile(filepath.Join("..", "..", "shared", "seed", "chat-schema.graphql")); err == nil && string(shared) != string(seedSrc) {
		t.Fatal("testdata/seed.graphqls differs from shared/seed/chat-schema.graphql")
	}
	aws := `scalar AWSDateTime
scalar AWSEmail
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION`
	seed, gerr := gqlparser.LoadSchema(&ast.Source{Name: "aws", Input: aws}, &ast.Source{Name: "seed", Input: string(seedSrc)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	served := generated.NewExecutableSchema(generated.Config{}).Schema()

	for name, st := range seed.Types {
		if st.BuiltIn {
			continue
		}
		vt := served.Types[name]
		if vt == nil {
			t.Errorf("type %s is not served", name)
			continue
		}
		if vt.Kind != st.Kind {
			t.Errorf("type %s kind = %s, want %s", name, vt.Kind, st.Kind)
		}
		for _, f := range st.Fields {
			vf := vt.Fields.ForName(f.Name)
			if vf == nil {
				t.Errorf("%s.%s is not served", name, f.Name)
				continue
			}
			if vf.Type.String() != f.Type.String() {
				t.Errorf("%s.%s type = %s, want %s", name, f.Name, vf.Type, f.Type)
			}
			for _, a := range f.Arguments {
				va := vf.Arguments.ForName(a.Name)
				if va == nil || va.Type.String() != a.Type.String() {
					t.Errorf("%s.%s(%s) changed or missing", name, f.Name, a.Name)
				}
			}
			for _, va := range vf.Arguments {
				if f.Arguments.ForName(va.Name) == nil && va.Type.NonNull {
					t.Errorf("%s.%s gained a required argument %s: not additive", name, f.Name, va.Name)
				}
			}
			if st.Kind == ast.InputObject {
				continue
			}
		}
		if st.Kind == ast.InputObject {
			for _, vf := range vt.Fields {
				if st.Fields.ForName(vf.Name) == nil && vf.Type.NonNull && vf.DefaultValue == nil {
					t.Errorf("input %s gained a required field %s: not additive", name, vf.Name)
				}
			}
		}
		for _, v := range st.EnumValues {
			if vt.EnumValues.ForName(v.Name) == nil {
				t.Errorf("enum %s lost value %s", name, v.Name)
			}
		}
	}
	for _, root := range []string{"Query", "Mutation", "Subscription"} {
		if served.Types[root] == nil {
			t.Errorf("root type %s is not served", root)
		}
	}
}

// TestSharedSubscriptions_CallerIndependent: graph.SharedSubscriptions
// share one rendering between subscribers, which is right only while
// nothing reachable from their result type depends on the caller. This
// pins those types' fields: adding one fails here, to be checked (and the
// list below extended, or the subscription taken out of
// SharedSubscriptions).
func TestSharedSubscriptions_CallerIndependent(t *testing.T) {
	served := generated.NewExecutableSchema(generated.Config{}).Schema()
	reviewed := map[string][]string{
		// reactions (reactedByMe) and unreadReplies depend on the caller:
		// under SharedSubscriptions they answer [] and 0 for everyone
		// (TestSharedSubscriptions_ReactionsCallerIndependent).
		// attachments: the links are minted per rendering, and every
		// subscriber sharing one is a member of the conversation (the
		// conversationId is a variable of the shared document), so each
		// may have them; links are bearer grants, bound to no user.
		"Message": {"messageId", "conversationId", "userId", "content", "messageType", "createdAt", "updatedAt", "author", "seq",
			"changeSeq", "editedAt", "edits", "deletedAt", "parentMessageId", "alsoInConversation", "replyCount", "lastReplyAt",
			"replyUserIds", "mentions", "reactions", "unreadReplies", "attachments", "deletedBy"},
		"Attachment": {"attachmentId", "fileName", "contentType", "size", "width", "height", "url", "thumbnailUrl", "previewUrl", "expiresAt"},
		"User": {"userId", "username", "email", "displayName", "avatarUrl", "lastSeen", "isOnline", "createdAt", "updatedAt", "hidePresence", "hideReadReceipts",
			"addPolicy", "isAdmin"},
	}
	for field := range graph.SharedSubscriptions {
		f := served.Subscription.Fields.ForName(field)
		if f == nil {
			t.Errorf("SharedSubscriptions names %s, which is not a subscription", field)
			continue
		}
		if f.Type.Name() != "Message" {
			t.Errorf("%s returns %s; only Message has been reviewed", field, f.Type.Name())
		}
	}
	for typ, fields := range reviewed {
		var got []string
		for _, f := range served.Types[typ].Fields {
			if !strings.HasPrefix(f.Name, "__") {
				got = append(got, f.Name)
			}
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(fields))
		if !slices.Equal(got, want) {
			t.Errorf("%s fields = %v, reviewed %v: check the new ones do not depend on the caller", typ, got, want)
		}
	}
}
