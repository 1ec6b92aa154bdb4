package dynamodb_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

// A key with more reactors than the message's summary keeps: reads of a
// few users come from the summary (with a batch read for the reader's own
// reaction), reads of many from the reaction items, and both agree; when
// a kept reactor leaves, the next earliest takes their place.
func TestListReactions_BeyondSummary(t *testing.T) {
	s := open(t)
	userID, convID := seed(t, s)
	m := send(t, s, userID, convID, "m1", t0.Add(time.Second))
	const reactors = confab.DefaultReactionUsers + 5
	react := func(i int, key string) *confab.Reaction {
		return &confab.Reaction{ConversationID: convID, MessageID: m.MessageID, UserID: fmt.Sprintf("r%02d", i), Key: key,
			At: t0.Add(time.Duration(i+2) * time.Second)}
	}
	for i := range reactors {
		if added, _, err := s.AddReaction(t.Context(), react(i, "z"), confab.DefaultMaxReactionKeys); err != nil || !added {
			t.Fatalf("AddReaction %d = %v, %v", i, added, err)
		}
	}
	if _, _, err := s.AddReaction(t.Context(), react(reactors-1, "y"), confab.DefaultMaxReactionKeys); err != nil {
		t.Fatal(err)
	}
	list := func(reader string, users int) []confab.ReactionCount {
		t.Helper()
		got, err := s.ListReactions(t.Context(), convID, []string{m.MessageID}, reader, users)
		if err != nil {
			t.Fatal(err)
		}
		return got[m.MessageID]
	}
	check := func(reader string) {
		t.Helper()
		all := list(reader, reactors+10) // every reactor: read from the items
		few := list(reader, 3)           // from the summary
		for i := range all {
			all[i].UserIDs = all[i].UserIDs[:min(3, len(all[i].UserIDs))]
		}
		if diff := cmp.Diff(all, few); diff != "" {
			t.Fatalf("reader %s: the summary's answer differs from the items' (-items +summary):\n%s", reader, diff)
		}
	}
	for _, reader := range []string{"r00", fmt.Sprintf("r%02d", reactors-1), "nobody"} {
		check(reader) // a kept reactor, one beyond the summary (on z; kept on y), and none
	}
	if got := list("nobody", 100); got[0].Key != "z" || got[0].Count != reactors || got[0].UserIDs[0] != "r00" {
		t.Fatalf("z = %+v, want %d reactors, r00 first", got[0], reactors)
	}
	for _, i := range []int{0, 3} { // kept reactors leave: the next earliest are kept instead
		if removed, _, err := s.RemoveReaction(t.Context(), react(i, "z")); err != nil || !removed {
			t.Fatalf("RemoveReaction %d = %v, %v", i, removed, err)
		}
	}
	check(fmt.Sprintf("r%02d", confab.DefaultReactionUsers+1))
	got := list("nobody", confab.DefaultReactionUsers)
	want := []string{"r01", "r02", "r04", "r05", "r06", "r07", "r08", "r09", "r10", "r11"}
	if diff := cmp.Diff(want, got[0].UserIDs); diff != "" || got[0].Count != reactors-2 || !got[0].FirstAt.Equal(react(1, "z").At) {
		t.Fatalf("z after r00 and r03 left = %+v (-want +got users:\n%s); want %d reactors from r01", got[0], diff, reactors-2)
	}
}
