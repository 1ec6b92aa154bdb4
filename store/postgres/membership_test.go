package postgres_test

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/postgres"
)

// TestStore_MembershipTwoNodes has writers on two nodes add members,
// remove them, change roles and send at once in one conversation with a
// member limit: no call fails but by the limit, the conversation never has
// more than the limit, and the change log is gapless with one MEMBER_*
// entry per change made.
func TestStore_MembershipTwoNodes(t *testing.T) {
	u := freshSchema(t)
	nodes := []*postgres.Store{openURL(t, u), openURL(t, u)}
	const users, limit = 24, 10
	addUser(t, nodes[0], "owner")
	for i := range users {
		addUser(t, nodes[0], fmt.Sprint("u", i))
	}
	addConversation(t, nodes[0], "c", "owner")
	var (
		mu                     sync.Mutex
		added, removed, edited int
		sent, limited          int
		wg                     sync.WaitGroup
	)
	for w := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node, id := nodes[w%2], fmt.Sprint("u", w)
			now := time.Now()
			got, c, err := node.AddMembers(ctx, "c", "owner", []confab.Member{{UserID: id, Role: confab.RoleMember, JoinedAt: now}}, limit, now)
			if confab.ErrorCode(err) == confab.CodeLimited {
				mu.Lock()
				limited++
				mu.Unlock()
				return
			}
			if err != nil || len(got) != 1 || len(c.Members) > limit {
				t.Errorf("AddMembers %s = %v, %d members, %v", id, got, len(c.Members), err)
				return
			}
			role := confab.RoleAdmin
			if _, err := node.UpdateMembers(ctx, "c", "owner", []confab.MemberUpdate{{UserID: id, Role: &role}}, time.Now()); err != nil {
				t.Error(err)
				return
			}
			send(t, node, &confab.Message{MessageID: "m-" + id, ConversationID: "c", UserID: id, Content: "hi"})
			mu.Lock()
			added, edited, sent = added+1, edited+1, sent+1
			mu.Unlock()
			if w%3 == 0 {
				if _, err := node.RemoveMember(ctx, "c", id, id, time.Now()); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				removed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if added < limit-1 || limited == 0 {
		t.Fatalf("%d added, %d refused; want at least %d added and some refused", added, limited, limit-1)
	}
	c, err := nodes[1].GetConversation(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Members) != 1+added-removed {
		t.Errorf("%d members, want %d", len(c.Members), 1+added-removed)
	}
	log := allChanges(t, nodes[1], "c")
	counts := map[confab.ChangeKind]int{}
	for i, ch := range log {
		if ch.ChangeSeq != int64(i+1) {
			t.Fatalf("change %d has seq %d", i, ch.ChangeSeq)
		}
		counts[ch.Kind]++
	}
	want := map[confab.ChangeKind]int{confab.ChangeMemberAdded: added, confab.ChangeMemberUpdated: edited,
		confab.ChangeMemberRemoved: removed, confab.ChangeMessageSent: sent}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%d %s changes, want %d", counts[k], k, n)
		}
	}
	if int64(len(log)) != c.LastChangeSeq {
		t.Errorf("LastChangeSeq %d, log has %d", c.LastChangeSeq, len(log))
	}
}

// TestStore_SlowModeTwoNodes sends one member's messages from many
// goroutines on two nodes at the same instant in slow mode: exactly one
// gets through, every other is CodeLimited and writes nothing.
func TestStore_SlowModeTwoNodes(t *testing.T) {
	u := freshSchema(t)
	nodes := []*postgres.Store{openURL(t, u), openURL(t, u)}
	userID, convID := fixture(t, nodes[0])
	const racers = 12
	at := time.Now()
	errs := make(chan error, racers)
	start := make(chan struct{})
	for i := range racers {
		go func() {
			<-start
			m := &confab.Message{MessageID: fmt.Sprint("m", i), ConversationID: convID, UserID: userID, Content: "hi",
				MessageType: confab.MessageText, CreatedAt: at, SlowMode: time.Minute}
			_, err := nodes[i%2].AppendMessage(ctx, m)
			errs <- err
		}()
	}
	close(start)
	ok := 0
	for range racers {
		switch err := <-errs; {
		case err == nil:
			ok++
		case confab.ErrorCode(err) != confab.CodeLimited:
			t.Errorf("AppendMessage: %v, want nil or CodeLimited", err)
		}
	}
	c, err := nodes[1].GetConversation(ctx, convID)
	if err != nil {
		t.Fatal(err)
	}
	if ok != 1 || c.LastSeq != 1 || c.LastChangeSeq != 1 {
		t.Fatalf("%d sends passed, LastSeq %d, LastChangeSeq %d; want 1 each", ok, c.LastSeq, c.LastChangeSeq)
	}
	if p := c.Members[0].LastPostedAt; p == nil || !p.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("LastPostedAt = %v, want %v", p, at)
	}
}

// TestStore_UsageInUTC reads usage on a session whose TimeZone is far from
// UTC: days and weeks are still UTC midnights and Mondays, and a message
// just before a UTC midnight counts on its UTC day.
func TestStore_UsageInUTC(t *testing.T) {
	base := freshSchema(t)
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	q.Set("timezone", "Pacific/Kiritimati") // UTC+14
	pu.RawQuery = q.Encode()
	s := openURL(t, pu.String())
	userID, convID := fixture(t, s)
	// Wednesday 2026-01-07; the span is Mon 5th to Sat 10th (exclusive).
	from := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 5)
	for i, at := range []time.Time{
		from.Add(-time.Millisecond),                        // before the span
		time.Date(2026, 1, 7, 23, 59, 59, 999e6, time.UTC), // Wednesday, late
		time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC),        // Thursday
		to, // after the span
	} {
		send(t, s, &confab.Message{MessageID: fmt.Sprint("m", i), ConversationID: convID, UserID: userID, Content: "x", CreatedAt: at})
	}
	got, err := s.Usage(ctx, from, to, 5)
	if err != nil {
		t.Fatal(err)
	}
	var days []string
	for _, d := range got.MessagesPerDay {
		days = append(days, fmt.Sprintf("%s:%d", d.Day.Format("Mon 02 15:04 MST"), d.Count))
	}
	want := "[Mon 05 00:00 UTC:0 Tue 06 00:00 UTC:0 Wed 07 00:00 UTC:1 Thu 08 00:00 UTC:1 Fri 09 00:00 UTC:0]"
	if fmt.Sprint(days) != want {
		t.Errorf("MessagesPerDay = %v, want %s", days, want)
	}
	if len(got.ActiveUsersPerWeek) != 1 || !got.ActiveUsersPerWeek[0].Day.Equal(from) || got.ActiveUsersPerWeek[0].Count != 1 {
		t.Errorf("ActiveUsersPerWeek = %v, want one week of Monday %v with 1 user", got.ActiveUsersPerWeek, from)
	}
	if len(got.TopConversations) != 1 || got.TopConversations[0].Messages != 2 {
		t.Errorf("TopConversations = %v, want %s with 2", got.TopConversations, convID)
	}
}
