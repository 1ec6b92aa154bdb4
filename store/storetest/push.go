package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

// RunPush checks the confab.PushStore contract: subscriptions by endpoint,
// moved between users, bounded per user, removed by owner or by anyone;
// and which users are connected.
func RunPush(t *testing.T, open func(t *testing.T) confab.Store) {
	for _, tt := range pushTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			if _, ok := s.(confab.PushStore); !ok {
				t.Fatalf("%T does not implement confab.PushStore", s)
			}
			tt.fn(newFixture(t, s))
		})
	}
}

var pushTests = []test{
	{"PushSubscriptions/PutListDelete", testPushSubscriptions},
	{"PushSubscriptions/OldestDroppedBeyondLimit", testPushSubscriptionsLimit},
	{"ConnectedUsers/LiveNodesOnly", testConnectedUsers},
	{"PushSubscriptions/GoneWithAccount", testPushSubscriptionsGoneWithAccount},
	{"NotificationSettings/RoundTrip", testNotificationSettings},
	{"ClaimPushWindow/OnePerWindow", testClaimPushWindow},
	{"ClaimPushWindows/Batch", testClaimPushWindows},
}

func (f *fixture) push() confab.PushStore { return f.s.(confab.PushStore) }

func (f *fixture) putPush(u *confab.User, endpoint string) *confab.PushSubscription {
	f.t.Helper()
	p := &confab.PushSubscription{Endpoint: endpoint, UserID: u.UserID, P256dh: "key-" + endpoint, Auth: "auth-" + endpoint, CreatedAt: f.now()}
	if err := f.push().PutPushSubscription(f.ctx, p); err != nil {
		f.t.Fatalf("PutPushSubscription: %v", err)
	}
	return p
}

func (f *fixture) pushEndpoints(users ...*confab.User) string {
	f.t.Helper()
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.UserID
	}
	ps, err := f.push().ListPushSubscriptions(f.ctx, ids)
	if err != nil {
		f.t.Fatalf("ListPushSubscriptions: %v", err)
	}
	s := ""
	for _, p := range ps {
		s += fmt.Sprintf("%s:%s ", p.UserID, p.Endpoint)
	}
	return s
}

func testPushSubscriptions(f *fixture) {
	ann, bob := f.user("ann"), f.user("bob")
	p := f.putPush(ann, "https://push.example/a")
	f.putPush(ann, "https://push.example/b")
	got, err := f.push().GetPushSubscription(f.ctx, p.Endpoint)
	if err != nil || *got != *p {
		f.t.Fatalf("GetPushSubscription = %+v, %v; want %+v", got, err, p)
	}
	if want := ann.UserID + ":https://push.example/a " + ann.UserID + ":https://push.example/b "; f.pushEndpoints(ann, bob) != want {
		f.t.Fatalf("subscriptions = %q, want %q", f.pushEndpoints(ann, bob), want)
	}
	// The same browser signed in as bob: the endpoint moves to him.
	f.putPush(bob, "https://push.example/b")
	if want := ann.UserID + ":https://push.example/a " + bob.UserID + ":https://push.example/b "; f.pushEndpoints(ann, bob) != want {
		f.t.Fatalf("after the move, subscriptions = %q, want %q", f.pushEndpoints(ann, bob), want)
	}
	// Only the owner removes it; "" (the push service said gone) anyone's.
	if ok, err := f.push().DeletePushSubscription(f.ctx, ann.UserID, "https://push.example/b"); ok || err != nil {
		f.t.Fatalf("ann deleting bob's subscription = %v, %v; want false", ok, err)
	}
	if ok, err := f.push().DeletePushSubscription(f.ctx, bob.UserID, "https://push.example/b"); !ok || err != nil {
		f.t.Fatalf("bob deleting his subscription = %v, %v; want true", ok, err)
	}
	if ok, err := f.push().DeletePushSubscription(f.ctx, "", "https://push.example/a"); !ok || err != nil {
		f.t.Fatalf("deleting a gone subscription = %v, %v; want true", ok, err)
	}
	if s := f.pushEndpoints(ann, bob); s != "" {
		f.t.Fatalf("subscriptions = %q after deleting all, want none", s)
	}
	_, err = f.push().GetPushSubscription(f.ctx, p.Endpoint)
	f.wantCode(err, confab.CodeNotFound)
}

func testPushSubscriptionsLimit(f *fixture) {
	ann := f.user("ann")
	for i := range confab.MaxPushSubscriptionsPerUser + 2 {
		f.putPush(ann, fmt.Sprintf("https://push.example/%02d", i))
	}
	want := ""
	for i := 2; i < confab.MaxPushSubscriptionsPerUser+2; i++ {
		want += fmt.Sprintf("%s:https://push.example/%02d ", ann.UserID, i)
	}
	if got := f.pushEndpoints(ann); got != want {
		f.t.Fatalf("subscriptions = %q, want the newest %d: %q", got, confab.MaxPushSubscriptionsPerUser, want)
	}
}

func testConnectedUsers(f *fixture) {
	t0 := f.now()
	stale := t0.Add(-time.Minute)
	f.adjust("u-on", "a", +1, t0, stale, 1)
	f.adjust("u-off", "a", +1, t0, stale, 1)
	f.adjust("u-off", "a", -1, t0, stale, 0)
	f.adjust("u-dead", "dead", +1, t0.Add(-2*time.Minute), stale, 0)
	got, err := f.push().ConnectedUsers(f.ctx, []string{"u-on", "u-off", "u-dead", "u-never"}, stale)
	if err != nil || len(got) != 1 || !got["u-on"] {
		f.t.Fatalf("ConnectedUsers = %v, %v; want only u-on", got, err)
	}
}

func testNotificationSettings(f *fixture) {
	ann, bob := f.user("ann"), f.user("bob")
	until := f.now().Add(time.Hour)
	ns := &confab.NotificationSettings{Level: confab.NotifyMentionsAndDirect, HidePreviews: true, QuietStart: "22:00", QuietEnd: "07:00",
		TimeZone: "Europe/Berlin", Mutes: map[string]*time.Time{"c-1": &until, "c-2": nil}}
	if err := f.push().PutNotificationSettings(f.ctx, ann.UserID, ns); err != nil {
		f.t.Fatal(err)
	}
	got, err := f.push().GetNotificationSettings(f.ctx, []string{ann.UserID, bob.UserID})
	if err != nil || len(got) != 1 || got[ann.UserID] == nil {
		f.t.Fatalf("GetNotificationSettings = %v, %v; want ann's only", got, err)
	}
	if g := got[ann.UserID]; g.Level != ns.Level || !g.HidePreviews || g.QuietStart != "22:00" || g.TimeZone != "Europe/Berlin" ||
		len(g.Mutes) != 2 || g.Mutes["c-2"] != nil || !g.Mutes["c-1"].Equal(until) {
		f.t.Fatalf("settings = %+v, want %+v", g, ns)
	}
	ns2 := &confab.NotificationSettings{Level: confab.NotifyNone}
	if err := f.push().PutNotificationSettings(f.ctx, ann.UserID, ns2); err != nil {
		f.t.Fatal(err)
	}
	if got, _ := f.push().GetNotificationSettings(f.ctx, []string{ann.UserID}); !reflect.DeepEqual(got[ann.UserID], ns2) {
		f.t.Fatalf("after replacing, settings = %+v, want %+v", got[ann.UserID], ns2)
	}
}

func testClaimPushWindow(f *fixture) {
	t0 := f.now()
	claim := func(user, conv string, at time.Time) bool {
		f.t.Helper()
		ok, err := f.push().ClaimPushWindow(f.ctx, user, conv, at, 10*time.Second)
		if err != nil {
			f.t.Fatal(err)
		}
		return ok
	}
	var won atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if claim("u1", "c1", t0) {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		f.t.Fatalf("%d of 8 concurrent claims won, want 1", won.Load())
	}
	if claim("u1", "c1", t0.Add(9*time.Second)) {
		f.t.Fatal("a claim inside the window won")
	}
	if !claim("u1", "c2", t0) || !claim("u2", "c1", t0) {
		f.t.Fatal("another conversation's or user's window was taken")
	}
	if !claim("u1", "c1", t0.Add(10*time.Second)) {
		f.t.Fatal("a claim after the window lost")
	}
}

func testPushSubscriptionsGoneWithAccount(f *fixture) {
	ann, bob := f.user("ann"), f.user("bob")
	f.putPush(ann, "https://push.example/ann")
	f.putPush(bob, "https://push.example/bob")
	if err := f.s.DeleteAccount(f.ctx, ann.UserID); err != nil {
		f.t.Fatal(err)
	}
	_, err := f.push().GetPushSubscription(f.ctx, "https://push.example/ann")
	f.wantCode(err, confab.CodeNotFound)
	if want := bob.UserID + ":https://push.example/bob "; f.pushEndpoints(ann, bob) != want {
		f.t.Fatalf("subscriptions = %q, want bob's only", f.pushEndpoints(ann, bob))
	}
}

// testClaimPushWindows: the batched claim starts the windows of the users
// without an open one, reports exactly those, and shares the windows of
// ClaimPushWindow.
func testClaimPushWindows(f *fixture) {
	t0 := f.now()
	if ok, err := f.push().ClaimPushWindow(f.ctx, "u2", "c1", t0, 10*time.Second); err != nil || !ok {
		f.t.Fatalf("ClaimPushWindow = %v, %v", ok, err)
	}
	users := []string{"u1", "u2", "u3"}
	won, err := f.push().ClaimPushWindows(f.ctx, users, "c1", t0.Add(time.Second), 10*time.Second)
	if err != nil {
		f.t.Fatal(err)
	}
	if want := map[string]bool{"u1": true, "u3": true}; !reflect.DeepEqual(won, want) {
		f.t.Fatalf("ClaimPushWindows = %v, want %v (u2's window is open)", won, want)
	}
	if won, err := f.push().ClaimPushWindows(f.ctx, users, "c1", t0.Add(5*time.Second), 10*time.Second); err != nil || len(won) != 0 {
		f.t.Fatalf("claims inside every window = %v, %v; want none", won, err)
	}
	if ok, err := f.push().ClaimPushWindow(f.ctx, "u1", "c1", t0.Add(5*time.Second), 10*time.Second); err != nil || ok {
		f.t.Fatalf("a single claim inside a batch-claimed window = %v, %v; want false", ok, err)
	}
	won, err = f.push().ClaimPushWindows(f.ctx, users, "c1", t0.Add(11*time.Second), 10*time.Second)
	if err != nil {
		f.t.Fatal(err)
	}
	if want := map[string]bool{"u1": true, "u2": true, "u3": true}; !reflect.DeepEqual(won, want) {
		f.t.Fatalf("after every window ended: %v, want %v", won, want)
	}
	if won, err := f.push().ClaimPushWindows(f.ctx, nil, "c1", t0, time.Second); err != nil || len(won) != 0 {
		f.t.Fatalf("no users = %v, %v", won, err)
	}
}
