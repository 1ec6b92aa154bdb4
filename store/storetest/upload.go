package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

// RunUploads runs the confab.UploadStore contract, one parallel subtest
// per property, named Upload/<Method>/<Property>. open must return a
// fresh, empty store that also implements confab.UploadStore (uploads
// refer to its conversations and messages), registering its own cleanup.
func RunUploads(t *testing.T, open func(t *testing.T) confab.Store) {
	for _, tt := range append(slices.Clip(uploadTests), adminUploadTests...) {
		t.Run("Upload/"+tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			us, ok := s.(confab.UploadStore)
			if !ok {
				t.Fatalf("%T does not implement confab.UploadStore", s)
			}
			tt.fn(&uploadFixture{fixture: newFixture(t, s), us: us})
		})
	}
}

type uploadFixture struct {
	*fixture
	us confab.UploadStore
}

type uploadTest struct {
	name string
	fn   func(f *uploadFixture)
}

// upload inserts a new upload of u to c, expiring an hour after now, and
// marks it ready when ready is set.
func (f *uploadFixture) upload(c *confab.Conversation, u *confab.User, size int64, ready bool) *confab.Upload {
	f.t.Helper()
	at := f.now()
	up := &confab.Upload{UploadID: f.id("up"), UserID: u.UserID, ConversationID: c.ConversationID, FileName: "a.png",
		ContentType: "image/png", Size: size, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	if err := f.us.InsertUpload(f.ctx, up); err != nil {
		f.t.Fatalf("InsertUpload: %v", err)
	}
	if ready {
		up.Ready, up.Width, up.Height, up.ThumbType = true, 640, 480, "image/png"
		if err := f.us.MarkUploadReady(f.ctx, up); err != nil {
			f.t.Fatalf("MarkUploadReady: %v", err)
		}
	}
	return up
}

func (f *uploadFixture) get(id string) *confab.Upload {
	f.t.Helper()
	u, err := f.us.GetUpload(f.ctx, id)
	if err != nil {
		f.t.Fatalf("GetUpload: %v", err)
	}
	return u
}

func (f *uploadFixture) deadIDs(now time.Time) []string {
	f.t.Helper()
	dead, err := f.us.ListDeadUploads(f.ctx, now, 100)
	if err != nil {
		f.t.Fatalf("ListDeadUploads: %v", err)
	}
	var ids []string
	for _, u := range dead {
		ids = append(ids, u.UploadID)
	}
	slices.Sort(ids)
	return ids
}

var uploadTests = []uploadTest{
	{"InsertUpload/RoundTrip", func(f *uploadFixture) {
		a := f.user("a")
		c := f.conversation(a)
		up := f.upload(c, a, 1234, true)
		got := f.get(up.UploadID)
		if *got != *up {
			f.t.Fatalf("GetUpload = %+v, want %+v", got, up)
		}
	}},
	{"InsertUpload/ErrNoConversation", func(f *uploadFixture) {
		a := f.user("a")
		err := f.us.InsertUpload(f.ctx, &confab.Upload{UploadID: f.id("up"), UserID: a.UserID, ConversationID: "c-none",
			FileName: "a", ContentType: "text/plain", Size: 1, CreatedAt: f.now(), ExpiresAt: f.now()})
		f.wantCode(err, confab.CodeNotFound)
	}},
	{"GetUpload/NotFound", func(f *uploadFixture) {
		_, err := f.us.GetUpload(f.ctx, "up-none")
		f.wantCode(err, confab.CodeNotFound)
	}},
	{"AttachUploads/AllOrNone", func(f *uploadFixture) {
		a, b := f.user("a"), f.user("b")
		c := f.conversation(a, b)
		ready, notReady, theirs := f.upload(c, a, 1, true), f.upload(c, a, 1, false), f.upload(c, b, 1, true)
		other := f.upload(f.conversation(a), a, 1, true)
		for _, ids := range [][]string{{ready.UploadID, notReady.UploadID}, {ready.UploadID, theirs.UploadID},
			{ready.UploadID, other.UploadID}, {ready.UploadID, "up-none"}} {
			err := f.us.AttachUploads(f.ctx, ids, a.UserID, c.ConversationID, "m-1", f.now())
			f.wantCode(err, confab.CodeConflict)
			if got := f.get(ready.UploadID); got.MessageID != "" {
				f.t.Fatalf("a refused AttachUploads(%v) attached %s", ids, ready.UploadID)
			}
		}
	}},
	{"AttachUploads/OnceOnly", func(f *uploadFixture) {
		a := f.user("a")
		c := f.conversation(a)
		up := f.upload(c, a, 1, true)
		if err := f.us.AttachUploads(f.ctx, []string{up.UploadID}, a.UserID, c.ConversationID, "m-1", f.now()); err != nil {
			f.t.Fatal(err)
		}
		err := f.us.AttachUploads(f.ctx, []string{up.UploadID}, a.UserID, c.ConversationID, "m-2", f.now())
		f.wantCode(err, confab.CodeConflict)
		if got := f.get(up.UploadID); got.MessageID != "m-1" {
			f.t.Fatalf("MessageID = %q, want m-1", got.MessageID)
		}
	}},
	{"AttachUploads/ErrExpired", func(f *uploadFixture) {
		a := f.user("a")
		c := f.conversation(a)
		up := f.upload(c, a, 1, true)
		err := f.us.AttachUploads(f.ctx, []string{up.UploadID}, a.UserID, c.ConversationID, "m-1", up.ExpiresAt)
		f.wantCode(err, confab.CodeConflict)
	}},
	{"DetachUploads/FreesThem", func(f *uploadFixture) {
		a := f.user("a")
		c := f.conversation(a)
		up := f.upload(c, a, 1, true)
		if err := f.us.AttachUploads(f.ctx, []string{up.UploadID}, a.UserID, c.ConversationID, "m-1", f.now()); err != nil {
			f.t.Fatal(err)
		}
		if err := f.us.DetachUploads(f.ctx, "m-1"); err != nil {
			f.t.Fatal(err)
		}
		if err := f.us.AttachUploads(f.ctx, []string{up.UploadID}, a.UserID, c.ConversationID, "m-2", f.now()); err != nil {
			f.t.Fatalf("attach after detach: %v", err)
		}
	}},
	{"ListMessageUploads/ByMessage", func(f *uploadFixture) {
		a := f.user("a")
		c := f.conversation(a)
		m1, m2 := f.send(c, a, "one"), f.send(c, a, "two")
		u1, u2, u3 := f.upload(c, a, 1, true), f.upload(c, a, 2, true), f.upload(c, a, 3, true)
		for _, att := range []struct {
			m   *confab.Message
			ids []string
		}{{m1, []string{u1.UploadID, u2.UploadID}}, {m2, []string{u3.UploadID}}} {
			if err := f.us.AttachUploads(f.ctx, att.ids, a.UserID, c.ConversationID, att.m.MessageID, f.now()); err != nil {
				f.t.Fatal(err)
			}
		}
		got, err := f.us.ListMessageUploads(f.ctx, c.ConversationID, []string{m1.MessageID, m2.MessageID, "m-none"})
		if err != nil {
			f.t.Fatal(err)
		}
		ids := func(us []*confab.Upload) (out []string) {
			for _, u := range us {
				out = append(out, u.UploadID)
			}
			return out
		}
		if g := ids(got[m1.MessageID]); !slices.Equal(g, []string{u1.UploadID, u2.UploadID}) {
			f.t.Errorf("message 1: %v, want %v", g, []string{u1.UploadID, u2.UploadID})
		}
		if g := ids(got[m2.MessageID]); !slices.Equal(g, []string{u3.UploadID}) {
			f.t.Errorf("message 2: %v, want %v", g, []string{u3.UploadID})
		}
		if len(got) != 2 {
			f.t.Errorf("%d messages in the result, want 2", len(got))
		}
		other, err := f.us.ListMessageUploads(f.ctx, f.conversation(a).ConversationID, []string{m1.MessageID})
		if err != nil || len(other) != 0 {
			f.t.Errorf("another conversation's view: %v, %v; want nothing", other, err)
		}
	}},
	{"SumUploadBytes/Window", func(f *uploadFixture) {
		a, b := f.user("a"), f.user("b")
		c := f.conversation(a, b)
		f.upload(c, a, 100, false)
		since := f.now()
		f.upload(c, a, 20, false)
		f.upload(c, a, 3, true)
		f.upload(c, b, 1000, false)
		n, err := f.us.SumUploadBytes(f.ctx, a.UserID, since)
		if err != nil || n != 23 {
			f.t.Fatalf("SumUploadBytes = %d, %v; want 23", n, err)
		}
	}},
	{"ListDeadUploads/ExpiredDeletedPurged", func(f *uploadFixture) {
		a := f.user("a")
		c := f.conversation(a)
		purged := f.send(c, a, "purged") // the oldest: the one retention takes
		live, deleted := f.send(c, a, "live"), f.send(c, a, "deleted")
		attach := func(m *confab.Message) *confab.Upload {
			up := f.upload(c, a, 1, true)
			if err := f.us.AttachUploads(f.ctx, []string{up.UploadID}, a.UserID, c.ConversationID, m.MessageID, f.now()); err != nil {
				f.t.Fatal(err)
			}
			return up
		}
		attach(live)
		onDeleted, onPurged := attach(deleted), attach(purged)
		pending := f.upload(c, a, 1, false)
		if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, deleted.MessageID, "", f.now()); err != nil {
			f.t.Fatal(err)
		}
		if got := f.deadIDs(pending.ExpiresAt.Add(-time.Millisecond)); !slices.Equal(got, []string{onDeleted.UploadID}) {
			f.t.Fatalf("before expiry: dead %v, want only the deleted message's", got)
		}
		if _, err := f.s.PurgeMessages(f.ctx, purged.CreatedAt.Add(time.Millisecond), 10); err != nil {
			f.t.Fatal(err)
		}
		want := []string{onDeleted.UploadID, onPurged.UploadID, pending.UploadID}
		slices.Sort(want)
		if got := f.deadIDs(pending.ExpiresAt.Add(time.Millisecond)); !slices.Equal(got, want) {
			f.t.Fatalf("dead = %v, want %v (deleted, purged, expired)", got, want)
		}
		if err := f.us.DeleteUpload(f.ctx, pending.UploadID); err != nil {
			f.t.Fatal(err)
		}
		if err := f.us.DeleteUpload(f.ctx, pending.UploadID); err != nil {
			f.t.Fatalf("DeleteUpload of a missing upload: %v", err)
		}
		_, err := f.us.GetUpload(f.ctx, pending.UploadID)
		f.wantCode(err, confab.CodeNotFound)
	}},
}
