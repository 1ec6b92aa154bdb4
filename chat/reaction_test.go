package chat_test

import (
	"context"
	"strings"
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

func TestValidReactionKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		want bool
	}{
		{"Emoji", "👍", true},
		{"ZWJSequence", "👩‍👩‍👧", true},
		{"VariationSelector", "❤️", true},
		{"SkinTone", "👍🏽", true},
		{"Name", ":party_parrot:", true},
		{"MaxBytes", strings.Repeat("a", confab.MaxReactionKeyBytes), true},
		{"ErrEmpty", "", false},
		{"ErrTooLong", strings.Repeat("a", confab.MaxReactionKeyBytes+1), false},
		{"ErrSpace", ":a b:", false},
		{"ErrNoBreakSpace", "a\u00a0b", false},
		{"ErrNewline", "👍\n", false},
		{"ErrNUL", "a\x00", false},
		{"ErrControl", "a\x1b", false},
		{"ErrInvalidUTF8", "\xff", false},
		{"ErrReplacementChar", "\ufffd", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chat.ValidReactionKey(tt.key); got != tt.want {
				t.Fatalf("ValidReactionKey(%q) = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}

// reactions reads m's reaction counts as who sees them.
func (e *env) reactions(t *testing.T, who confab.Identity, m *confab.Message) []confab.ReactionCount {
	t.Helper()
	all, err := e.svc.Reactions(context.Background(), who, []*confab.Message{m}, 10)
	if err != nil {
		t.Fatal(err)
	}
	return all[m.MessageID]
}

func TestService_AddReaction(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chat.Config{MaxReactionKeys: 2})
	alice, bob, eve := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "eve")
	c := e.conversation(t, alice, bob)
	cid := c.ConversationID
	rec := e.record(t, cid)

	t.Run("RetryIsOneReaction", func(t *testing.T) {
		m := e.send(t, alice, cid, "react to me")
		before := len(rec.changes())
		for range 3 {
			if _, err := e.svc.AddReaction(ctx, bob, cid, m.MessageID, "👍"); err != nil {
				t.Fatal(err)
			}
		}
		got := e.reactions(t, alice, m)
		if len(got) != 1 || got[0].Count != 1 || got[0].ByUser || len(got[0].UserIDs) != 1 || got[0].UserIDs[0] != bob.UserID {
			t.Fatalf("alice sees %+v; want one 👍 by bob, not by her", got)
		}
		if mine := e.reactions(t, bob, m); !mine[0].ByUser {
			t.Fatalf("bob sees %+v; want reactedByMe", mine)
		}
		chs := rec.changes()[before:]
		if len(chs) != 1 || chs[0].Kind != confab.ChangeReactionAdded || chs[0].ReactionKey != "👍" || chs[0].UserID != bob.UserID || chs[0].MessageID != m.MessageID {
			t.Fatalf("published %+v; want one REACTION_ADDED 👍 by bob", chs)
		}
	})
	t.Run("RemoveReaction", func(t *testing.T) {
		m := e.send(t, alice, cid, "undo")
		if _, err := e.svc.AddReaction(ctx, bob, cid, m.MessageID, ":tada:"); err != nil {
			t.Fatal(err)
		}
		before := len(rec.changes())
		for range 2 { // the second removes nothing and publishes nothing
			got, err := e.svc.RemoveReaction(ctx, bob, cid, m.MessageID, ":tada:")
			if err != nil {
				t.Fatal(err)
			}
			if got.MessageID != m.MessageID {
				t.Fatalf("removeReaction returned message %s, want %s", got.MessageID, m.MessageID)
			}
		}
		if got := e.reactions(t, bob, m); len(got) != 0 {
			t.Fatalf("reactions after removal = %+v", got)
		}
		chs := rec.changes()[before:]
		if len(chs) != 1 || chs[0].Kind != confab.ChangeReactionRemoved {
			t.Fatalf("published %+v; want one REACTION_REMOVED", chs)
		}
	})
	t.Run("ErrTooManyKeys", func(t *testing.T) {
		m := e.send(t, alice, cid, "popular")
		for _, k := range []string{"a", "b"} {
			if _, err := e.svc.AddReaction(ctx, alice, cid, m.MessageID, k); err != nil {
				t.Fatal(err)
			}
		}
		_, err := e.svc.AddReaction(ctx, bob, cid, m.MessageID, "c")
		wantCode(t, err, confab.CodeLimited)
		if _, err := e.svc.AddReaction(ctx, bob, cid, m.MessageID, "a"); err != nil {
			t.Fatalf("an existing key is not a new one: %v", err)
		}
		got := e.reactions(t, bob, m)
		if len(got) != 2 || got[0].Key != "a" || got[0].Count != 2 || got[1].Key != "b" {
			t.Fatalf("reactions = %+v; want a×2 then b×1 (first-use order)", got)
		}
	})
	t.Run("ErrNonMember", func(t *testing.T) {
		m := e.send(t, alice, cid, "members only")
		_, err := e.svc.AddReaction(ctx, eve, cid, m.MessageID, "👍")
		wantCode(t, err, confab.CodeNotFound)
		_, err = e.svc.RemoveReaction(ctx, eve, cid, m.MessageID, "👍")
		wantCode(t, err, confab.CodeNotFound)
		_, err = e.svc.Reactions(ctx, eve, []*confab.Message{m}, 10)
		wantCode(t, err, confab.CodeNotFound)
	})
	t.Run("ErrDeleted", func(t *testing.T) {
		m := e.send(t, alice, cid, "soon gone")
		if _, err := e.svc.DeleteMessage(ctx, alice, cid, m.MessageID); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.AddReaction(ctx, bob, cid, m.MessageID, "👍")
		wantCode(t, err, confab.CodeNotFound)
	})
	t.Run("ErrMessageOfAnotherConversation", func(t *testing.T) {
		other := e.conversation(t, bob, eve)
		m := e.send(t, eve, other.ConversationID, "elsewhere")
		_, err := e.svc.AddReaction(ctx, bob, cid, m.MessageID, "👍")
		wantCode(t, err, confab.CodeNotFound)
	})
	t.Run("ErrBadKey", func(t *testing.T) {
		m := e.send(t, alice, cid, "keys")
		_, err := e.svc.AddReaction(ctx, bob, cid, m.MessageID, "two words")
		wantCode(t, err, confab.CodeInvalid)
		_, err = e.svc.RemoveReaction(ctx, bob, cid, m.MessageID, "")
		wantCode(t, err, confab.CodeInvalid)
	})
}
