package graph_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/blob/disk"
	blobimage "github.com/confab-chat/confab/blob/image"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/graph"
	"github.com/confab-chat/confab/store/sqlite"
)

// countingUploads is the real SQLite upload store, counting the reads
// Message.attachments must batch.
type countingUploads struct {
	confab.UploadStore
	lists atomic.Int64
}

func (s *countingUploads) ListMessageUploads(ctx context.Context, conversationID string, ids []string) (map[string][]*confab.Upload, error) {
	s.lists.Add(1)
	return s.UploadStore.ListMessageUploads(ctx, conversationID, ids)
}

// TestLoaders_AttachmentsOnePerPage: a page of messages with files costs
// one ListMessageUploads, however many messages have files, and each
// message gets its own files.
func TestLoaders_AttachmentsOnePerPage(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := disk.Open(disk.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(disk.PathPrefix, blobs.Handler())
	blobSrv := httptest.NewServer(mux)
	t.Cleanup(blobSrv.Close)
	br := inproc.New()
	t.Cleanup(func() { br.Close() })
	uploads := &countingUploads{UploadStore: st}
	svc := chat.New(st, br, chat.Config{SendsPerSecond: -1, ConversationsPerMinute: -1},
		chat.WithUploads(blobs, uploads, blobimage.New(blobimage.Config{}), chat.UploadConfig{}))
	t.Cleanup(svc.Close)
	srv := graph.NewServer(svc, graph.Limits{MaxComplexity: 100_000}, nil)
	srv.AddTransport(transport.POST{})
	e := &featureEnv{svc: svc, store: &countingStore{Store: st}, h: srv}

	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c, err := svc.CreateConversation(ctx, alice, nil, []string{bob.UserID})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	want := map[string]string{} // message id → its file's name
	for i := range n {
		name := fmt.Sprintf("f%d.txt", i)
		body := []byte(name)
		target, err := svc.CreateUpload(ctx, alice, c.ConversationID, name, "text/plain", int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(target.Method, blobSrv.URL+target.URL, bytes.NewReader(body))
		req.Header = target.Headers.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT %s: %v %v", name, resp, err)
		}
		resp.Body.Close()
		m, err := svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Content: name, Attachments: []string{target.UploadID}})
		if err != nil {
			t.Fatal(err)
		}
		want[m.MessageID] = name
	}
	// And messages without files on the same page.
	for range 5 {
		if _, err := svc.SendMessage(ctx, bob, chat.SendMessageInput{ConversationID: c.ConversationID, Content: "plain"}); err != nil {
			t.Fatal(err)
		}
	}

	uploads.lists.Store(0)
	var out struct {
		ListMessages struct {
			Items []struct {
				MessageID   string
				Attachments []struct{ FileName, URL string }
			}
		}
	}
	e.query(t, bob, `query($c: ID!) { listMessages(conversationId: $c, limit: 100) { items { messageId attachments { fileName url } } } }`,
		map[string]any{"c": c.ConversationID}, &out)
	if got := uploads.lists.Load(); got != 1 {
		t.Fatalf("ListMessageUploads calls = %d for one page, want 1", got)
	}
	if len(out.ListMessages.Items) != n+5 {
		t.Fatalf("%d messages, want %d", len(out.ListMessages.Items), n+5)
	}
	for _, m := range out.ListMessages.Items {
		name, hasFile := want[m.MessageID]
		switch {
		case hasFile && (len(m.Attachments) != 1 || m.Attachments[0].FileName != name || m.Attachments[0].URL == ""):
			t.Errorf("message %s: attachments %+v, want %s with a link", m.MessageID, m.Attachments, name)
		case !hasFile && len(m.Attachments) != 0:
			t.Errorf("message %s without files: attachments %+v", m.MessageID, m.Attachments)
		}
	}
}
