package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

var messageTests = []test{
	{"AppendMessage/SeqAndSummary", testAppendMessage},
	{"AppendMessage/SeqGaplessConcurrent", testAppendMessageConcurrent},
	{"AppendMessage/PreviewCutToRunes", testAppendMessagePreview},
	{"AppendMessage/UnknownConversationNotFound", testAppendMessageUnknown},
	{"AppendMessage/ClientTokenIdempotent", testAppendMessageClientToken},
	{"AppendMessage/ClientTokenConcurrent", testAppendMessageClientTokenRace},
	{"GetMessage/NotFound", testGetMessageNotFound},
	{"ListMessages/NewestFirstStablePaging", testListMessagesPaging},
	{"ListMessagesAfter/IncludesDeleted", testListMessagesAfter},
	{"DeleteMessage/NewestMovesPreview", testDeleteNewest},
	{"DeleteMessage/OlderKeepsPreview", testDeleteOlder},
	{"DeleteMessage/LastLiveClearsPreview", testDeleteLastLive},
	{"DeleteMessage/NotFound", testDeleteMessageNotFound},
}

func testAppendMessage(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	local := time.FixedZone("UTC-3", -3*3600)
	m1 := f.newMessage(c, ann, "first")
	m1.CreatedAt = time.Date(2026, 3, 4, 5, 6, 7, 891_234_567, local) // stored at millisecond precision
	created, err := f.s.AppendMessage(f.ctx, m1)
	if err != nil || !created || m1.Seq != 1 {
		f.t.Fatalf("first AppendMessage = %v, %v, seq %d; want created, seq 1", created, err, m1.Seq)
	}
	m2 := f.send(c, ann, "second")
	if m2.Seq != 2 {
		f.t.Fatalf("second seq = %d, want 2", m2.Seq)
	}
	want := *m1
	want.CreatedAt = m1.CreatedAt.Truncate(time.Millisecond).UTC()
	got, err := f.s.GetMessage(f.ctx, c.ConversationID, m1.MessageID)
	if err != nil {
		f.t.Fatal(err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		f.t.Fatalf("GetMessage mismatch (-want +got):\n%s", diff)
	}
	if got.CreatedAt.Location() != time.UTC {
		f.t.Fatalf("CreatedAt in %v, want UTC", got.CreatedAt.Location())
	}
	conv := f.getConversation(c.ConversationID)
	if conv.LastSeq != 2 || conv.MessageCount != 2 || conv.LastMessage == nil || *conv.LastMessage != "second" ||
		conv.LastMessageAt == nil || !conv.LastMessageAt.Equal(m2.CreatedAt) {
		f.t.Fatalf("summary after two messages = %+v", conv)
	}
}

// testAppendMessageConcurrent appends from 32 goroutines into one
// conversation, and a few into another: seqs are exactly 1..n per
// conversation, each stored message has the seq its caller got, and the
// summary matches the newest message.
func testAppendMessageConcurrent(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c, other := f.conversation(ann, bo), f.conversation(bo)
	const workers, each = 32, 8
	type result struct {
		m   *confab.Message
		err error
	}
	results := make(chan result, workers*each+each)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers + 1 {
		conv, author := c, ann
		if w == workers {
			conv, author = other, bo
		}
		wg.Go(func() {
			<-start
			for i := range each {
				m := f.newMessage(conv, author, fmt.Sprintf("worker %d message %d", w, i))
				_, err := f.s.AppendMessage(f.ctx, m)
				results <- result{m, err}
			}
		})
	}
	close(start)
	wg.Wait()
	close(results)
	bySeq := map[int64]*confab.Message{}
	var otherSeqs []int64
	for r := range results {
		if r.err != nil {
			f.t.Fatalf("AppendMessage: %v", r.err)
		}
		if r.m.ConversationID == other.ConversationID {
			otherSeqs = append(otherSeqs, r.m.Seq)
			continue
		}
		if prev := bySeq[r.m.Seq]; prev != nil {
			f.t.Fatalf("seq %d assigned to %s and %s", r.m.Seq, prev.MessageID, r.m.MessageID)
		}
		bySeq[r.m.Seq] = r.m
	}
	const total = workers * each
	for seq := int64(1); seq <= total; seq++ {
		if bySeq[seq] == nil {
			f.t.Fatalf("seq %d missing: not gapless (%d messages)", seq, len(bySeq))
		}
	}
	slices.Sort(otherSeqs)
	if want := []int64{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(otherSeqs, want) {
		f.t.Fatalf("seqs of the other conversation = %v, want %v", otherSeqs, want)
	}
	stored, err := f.s.ListMessagesAfter(f.ctx, c.ConversationID, 0, 2*total)
	if err != nil || len(stored) != total {
		f.t.Fatalf("ListMessagesAfter(0) = %d messages, %v; want %d", len(stored), err, total)
	}
	for i, m := range stored {
		if m.Seq != int64(i+1) || m.MessageID != bySeq[m.Seq].MessageID {
			f.t.Fatalf("stored message %d = seq %d id %s, want seq %d id %s", i, m.Seq, m.MessageID, i+1, bySeq[int64(i+1)].MessageID)
		}
	}
	newest := bySeq[total]
	conv := f.getConversation(c.ConversationID)
	if conv.LastSeq != total || conv.MessageCount != total || conv.LastMessage == nil || *conv.LastMessage != newest.Content ||
		conv.LastMessageAt == nil || !conv.LastMessageAt.Equal(newest.CreatedAt) {
		f.t.Fatalf("summary = seq %d count %d last %v at %v; want %d, %d, %q at %v",
			conv.LastSeq, conv.MessageCount, conv.LastMessage, conv.LastMessageAt, total, total, newest.Content, newest.CreatedAt)
	}
}

func testAppendMessagePreview(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	long := strings.Repeat("é", confab.MaxLastMessageLength) + "ü tail"
	f.send(c, ann, long)
	conv := f.getConversation(c.ConversationID)
	if want := strings.Repeat("é", confab.MaxLastMessageLength); conv.LastMessage == nil || *conv.LastMessage != want {
		f.t.Fatalf("LastMessage = %v, want the first %d runes", conv.LastMessage, confab.MaxLastMessageLength)
	}
}

func testAppendMessageUnknown(f *fixture) {
	ann := f.user("ann")
	m := &confab.Message{MessageID: f.id("m"), ConversationID: "missing", UserID: ann.UserID, Content: "x", MessageType: confab.MessageText, CreatedAt: f.now()}
	created, err := f.s.AppendMessage(f.ctx, m)
	f.wantCode(err, confab.CodeNotFound)
	if created {
		f.t.Fatal("created = true with an error")
	}
}

func testAppendMessageClientToken(f *fixture) {
	ann, bo := f.user("ann"), f.user("bo")
	c, other := f.conversation(ann, bo), f.conversation(ann)
	send := func(c *confab.Conversation, u *confab.User, content string) (*confab.Message, bool) {
		f.t.Helper()
		m := f.newMessage(c, u, content)
		m.ClientToken = "retry-1"
		created, err := f.s.AppendMessage(f.ctx, m)
		if err != nil {
			f.t.Fatal(err)
		}
		return m, created
	}
	first, created := send(c, ann, "hello")
	if !created || first.Seq != 1 {
		f.t.Fatalf("first send: created %v seq %d", created, first.Seq)
	}
	stored, err := f.s.GetMessage(f.ctx, c.ConversationID, first.MessageID)
	if err != nil {
		f.t.Fatal(err)
	}
	again, created := send(c, ann, "hello, edited on retry")
	if created {
		f.t.Fatal("a retry with the same token was created again")
	}
	if diff := cmp.Diff(stored, again); diff != "" {
		f.t.Fatalf("a retry must return the stored message (-stored +retry):\n%s", diff)
	}
	if _, created := send(c, bo, "hi"); !created {
		f.t.Fatal("another user's identical token must be independent")
	}
	if m, created := send(other, ann, "elsewhere"); !created || m.Seq != 1 {
		f.t.Fatalf("the same token in another conversation: created %v seq %d, want a new message", created, m.Seq)
	}
	conv := f.getConversation(c.ConversationID)
	if conv.LastSeq != 2 || conv.MessageCount != 2 || conv.LastMessage == nil || *conv.LastMessage != "hi" {
		f.t.Fatalf("summary after a retried send = seq %d count %d last %v, want 2, 2, hi", conv.LastSeq, conv.MessageCount, conv.LastMessage)
	}
}

// testAppendMessageClientTokenRace sends one token from several goroutines
// at once: one message is created and every caller gets it.
func testAppendMessageClientTokenRace(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	const n = 8
	msgs := make([]*confab.Message, n)
	created := make([]bool, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		msgs[i] = f.newMessage(c, ann, "once")
		msgs[i].ClientToken = "tap-twice"
		wg.Go(func() {
			<-start
			created[i], errs[i] = f.s.AppendMessage(f.ctx, msgs[i])
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for i := range n {
		if errs[i] != nil {
			f.t.Fatalf("AppendMessage %d: %v", i, errs[i])
		}
		if created[i] {
			wins++
		}
		if msgs[i].MessageID != msgs[0].MessageID || msgs[i].Seq != 1 {
			f.t.Fatalf("caller %d got message %s seq %d, caller 0 got %s seq %d", i, msgs[i].MessageID, msgs[i].Seq, msgs[0].MessageID, msgs[0].Seq)
		}
	}
	if wins != 1 {
		f.t.Fatalf("%d callers created the message, want exactly 1", wins)
	}
	if conv := f.getConversation(c.ConversationID); conv.LastSeq != 1 || conv.MessageCount != 1 {
		f.t.Fatalf("summary = seq %d count %d, want 1 and 1", conv.LastSeq, conv.MessageCount)
	}
}

func testGetMessageNotFound(f *fixture) {
	ann := f.user("ann")
	c, other := f.conversation(ann), f.conversation(ann)
	m := f.send(c, ann, "x")
	for _, q := range []struct{ conv, msg string }{
		{c.ConversationID, "missing"},
		{"missing", m.MessageID},
		{other.ConversationID, m.MessageID}, // exists, but in another conversation
	} {
		_, err := f.s.GetMessage(f.ctx, q.conv, q.msg)
		f.wantCode(err, confab.CodeNotFound)
	}
	if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, m.MessageID, "", f.now()); err != nil {
		f.t.Fatal(err)
	}
	_, err := f.s.GetMessage(f.ctx, c.ConversationID, m.MessageID)
	f.wantCode(err, confab.CodeNotFound) // deleted
}

func testListMessagesPaging(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	var msgs []*confab.Message
	for i := range 9 {
		msgs = append(msgs, f.send(c, ann, fmt.Sprint("m", i+1)))
	}
	if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, msgs[4].MessageID, "", f.now()); err != nil {
		f.t.Fatal(err)
	}
	var got []int64
	before := int64(0)
	for range 10 {
		page, err := f.s.ListMessages(f.ctx, c.ConversationID, before, 3)
		if err != nil {
			f.t.Fatal(err)
		}
		got = append(got, seqs(page)...)
		if len(page) < 3 {
			break
		}
		before = page[len(page)-1].Seq
		f.send(c, ann, "arrives while paging") // must not shift older pages
	}
	if want := []int64{9, 8, 7, 6, 4, 3, 2, 1}; !slices.Equal(got, want) {
		f.t.Fatalf("pages = %v, want %v (newest first, deleted left out)", got, want)
	}
	page, err := f.s.ListMessages(f.ctx, c.ConversationID, 0, 2)
	if err != nil || len(page) != 2 || page[0].Seq != 11 || page[0].Content != "arrives while paging" {
		f.t.Fatalf("newest page = %v, %v; want seqs 11, 10", seqs(page), err)
	}
	if diff := cmp.Diff(msgs[0], f.lastOf(f.s.ListMessages(f.ctx, c.ConversationID, 2, 10))); diff != "" {
		f.t.Fatalf("listed message differs from the appended one (-appended +listed):\n%s", diff)
	}
}

func (f *fixture) lastOf(msgs []*confab.Message, err error) *confab.Message {
	f.t.Helper()
	if err != nil || len(msgs) == 0 {
		f.t.Fatalf("list = %d messages, %v", len(msgs), err)
	}
	return msgs[len(msgs)-1]
}

func testListMessagesAfter(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	var msgs []*confab.Message
	for i := range 5 {
		msgs = append(msgs, f.send(c, ann, fmt.Sprint(i)))
	}
	at := f.now()
	if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, msgs[2].MessageID, "", at); err != nil {
		f.t.Fatal(err)
	}
	after, err := f.s.ListMessagesAfter(f.ctx, c.ConversationID, 1, 3)
	if err != nil {
		f.t.Fatal(err)
	}
	if got, want := seqs(after), []int64{2, 3, 4}; !slices.Equal(got, want) {
		f.t.Fatalf("ListMessagesAfter(1, limit 3) = %v, want %v (oldest first, deleted included)", got, want)
	}
	if !after[1].Deleted || after[1].UpdatedAt == nil || !after[1].UpdatedAt.Equal(at) || after[0].Deleted || after[2].Deleted {
		f.t.Fatalf("Deleted flags = %v %v %v, deleted UpdatedAt %v; want only seq 3 deleted at %v",
			after[0].Deleted, after[1].Deleted, after[2].Deleted, after[1].UpdatedAt, at)
	}
	if rest, err := f.s.ListMessagesAfter(f.ctx, c.ConversationID, 5, 10); err != nil || len(rest) != 0 {
		f.t.Fatalf("ListMessagesAfter(last seq) = %v, %v; want none", seqs(rest), err)
	}
}

func testDeleteNewest(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	first := f.send(c, ann, "first")
	last := f.send(c, ann, "second")
	at := f.now()
	m, conv, err := f.s.DeleteMessage(f.ctx, c.ConversationID, last.MessageID, "", at)
	if err != nil {
		f.t.Fatal(err)
	}
	want := *last
	want.ChangeSeq = 3 // the MESSAGE_DELETED change
	if diff := cmp.Diff(&want, m); diff != "" {
		f.t.Fatalf("DeleteMessage must return the message as it was, with the new ChangeSeq (-want +got):\n%s", diff)
	}
	if conv.MessageCount != 1 || conv.LastSeq != 2 || conv.LastMessage == nil || *conv.LastMessage != "first" ||
		conv.LastMessageAt == nil || !conv.LastMessageAt.Equal(first.CreatedAt) {
		f.t.Fatalf("summary after deleting the newest = %+v", conv)
	}
	if diff := cmp.Diff(conv, f.getConversation(c.ConversationID)); diff != "" {
		f.t.Fatalf("DeleteMessage's conversation is not what GetConversation reads (-delete +get):\n%s", diff)
	}
	if next := f.send(c, ann, "third"); next.Seq != 3 {
		f.t.Fatalf("seq after a delete = %d, want 3 (never reused)", next.Seq)
	}
}

func testDeleteOlder(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	old := f.send(c, ann, "first")
	last := f.send(c, ann, "second")
	_, conv, err := f.s.DeleteMessage(f.ctx, c.ConversationID, old.MessageID, "", f.now())
	if err != nil {
		f.t.Fatal(err)
	}
	if conv.MessageCount != 1 || conv.LastSeq != 2 || conv.LastMessage == nil || *conv.LastMessage != "second" ||
		conv.LastMessageAt == nil || !conv.LastMessageAt.Equal(last.CreatedAt) {
		f.t.Fatalf("summary after deleting an older message = %+v", conv)
	}
}

func testDeleteLastLive(f *fixture) {
	ann := f.user("ann")
	c, quiet := f.conversation(ann), f.conversation(ann)
	m := f.send(c, ann, "only")
	// c is now the most recent; deleting its only message takes its
	// activity back to its creation, before quiet's.
	if got := ids(f.listAll(ann.UserID, 10, nil)); !slices.Equal(got, []string{c.ConversationID, quiet.ConversationID}) {
		f.t.Fatalf("order before delete = %v", got)
	}
	_, conv, err := f.s.DeleteMessage(f.ctx, c.ConversationID, m.MessageID, "", f.now())
	if err != nil {
		f.t.Fatal(err)
	}
	if conv.MessageCount != 0 || conv.LastSeq != 1 || conv.LastMessage != nil || conv.LastMessageAt != nil {
		f.t.Fatalf("summary after deleting the only message = %+v; want count 0, seq 1, no preview", conv)
	}
	if got := ids(f.listAll(ann.UserID, 1, nil)); !slices.Equal(got, []string{quiet.ConversationID, c.ConversationID}) {
		f.t.Fatalf("order after delete = %v, want activity = CreatedAt again", got)
	}
}

func testDeleteMessageNotFound(f *fixture) {
	ann := f.user("ann")
	c, other := f.conversation(ann), f.conversation(ann)
	m := f.send(c, ann, "x")
	for _, q := range []struct{ conv, msg string }{{"missing", "missing"}, {c.ConversationID, "missing"}, {other.ConversationID, m.MessageID}} {
		_, _, err := f.s.DeleteMessage(f.ctx, q.conv, q.msg, "", f.now())
		f.wantCode(err, confab.CodeNotFound)
	}
	if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, m.MessageID, "", f.now()); err != nil {
		f.t.Fatal(err)
	}
	_, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, m.MessageID, "", f.now())
	f.wantCode(err, confab.CodeNotFound) // already deleted
	if conv := f.getConversation(c.ConversationID); conv.MessageCount != 0 {
		f.t.Fatalf("MessageCount = %d after a second delete, want 0 (not decremented twice)", conv.MessageCount)
	}
}
