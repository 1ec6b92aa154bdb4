package sqlite

import (
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/storetest"
)

func TestStore_OutboxContract(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) confab.Store { return openTemp(t) })
}

// TestStore_CompleteOutboxes: one write completes the deliveries whose
// lease the owner holds, and neither an event nor another node's entry.
func TestStore_CompleteOutboxes(t *testing.T) {
	st := openTemp(t)
	ctx := t.Context()
	now := time.Now().UTC()
	var entries []*confab.OutboxEntry
	for _, ch := range []string{confab.ChannelEvent, confab.ChannelWebPush, confab.ChannelWebPush, confab.ChannelWebPush} {
		entries = append(entries, &confab.OutboxEntry{Channel: ch, Target: "t", EventID: 1, Event: confab.OutboxMessageSent, At: now, NotBefore: now, Data: []byte(`{}`)})
	}
	entries[0].Target = ""
	if err := st.InsertOutbox(ctx, entries); err != nil {
		t.Fatal(err)
	}
	mine, err := st.ClaimOutbox(ctx, "node-a", now, time.Minute, 3) // the event and two deliveries
	if err != nil || len(mine) != 3 {
		t.Fatalf("claim = %d entries, %v; want 3", len(mine), err)
	}
	theirs, err := st.ClaimOutbox(ctx, "node-b", now, time.Minute, 10)
	if err != nil || len(theirs) != 1 {
		t.Fatalf("second claim = %d entries, %v; want 1", len(theirs), err)
	}
	ids := []int64{mine[0].ID, mine[1].ID, mine[2].ID, theirs[0].ID}
	n, err := st.CompleteOutboxes(ctx, ids, "node-a")
	if err != nil || n != 2 {
		t.Fatalf("CompleteOutboxes = %d, %v; want node-a's 2 deliveries", n, err)
	}
	for i, want := range []bool{false, true, true, false} {
		e, err := st.GetOutboxEntry(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if e.Done != want || e.Done && e.Owner != "" {
			t.Errorf("entry %d (%s, owner %q): done %v, want %v with the lease released", i, e.Channel, e.Owner, e.Done, want)
		}
	}
}
