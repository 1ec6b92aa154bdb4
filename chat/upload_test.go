package chat_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	_ "image/jpeg" // thumbnails of opaque images
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/blob/disk"
	blobimage "github.com/confab-chat/confab/blob/image"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/store/sqlite"
)

// fileEnv is a chat.Service with files: real SQLite, the disk blob engine
// served over real HTTP on 127.0.0.1, and a clock tests can move ahead.
type fileEnv struct {
	*env
	blobs *disk.Store
	base  string // the blob server's URL

	mu     sync.Mutex
	offset time.Duration // guarded by mu: added to the real time
}

func newFileEnv(t testing.TB, cfg chat.UploadConfig) *fileEnv {
	t.Helper()
	return newFileEnvWith(t, cfg, blobimage.New(blobimage.Config{}))
}

func newFileEnvWith(t testing.TB, cfg chat.UploadConfig, img *blobimage.Processor) *fileEnv {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
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
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	br := inproc.New()
	t.Cleanup(func() { br.Close() })
	fe := &fileEnv{blobs: blobs, base: ts.URL}
	svc := chat.New(st, br, chat.Config{SendsPerSecond: -1, ConversationsPerMinute: -1},
		chat.WithClock(fe.now), chat.WithUploads(blobs, st, img, cfg))
	t.Cleanup(svc.Close)
	fe.env = &env{svc: svc, store: st, broker: br}
	return fe
}

func (fe *fileEnv) now() time.Time {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	return time.Now().Add(fe.offset)
}

func (fe *fileEnv) advance(d time.Duration) {
	fe.mu.Lock()
	fe.offset += d
	fe.mu.Unlock()
}

// upload creates an upload of body as fileName of type ctype and sends the
// bytes to its presigned target; it returns the upload id.
func (fe *fileEnv) upload(t testing.TB, who confab.Identity, convID, fileName, ctype string, body []byte) string {
	t.Helper()
	target, err := fe.svc.CreateUpload(context.Background(), who, convID, fileName, ctype, int64(len(body)))
	if err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	if status := fe.put(t, target, body); status != http.StatusOK {
		t.Fatalf("PUT: status %d", status)
	}
	return target.UploadID
}

func (fe *fileEnv) put(t testing.TB, target *chat.UploadTarget, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(target.Method, fe.base+target.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = target.Headers.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// get downloads a minted link and returns the status and the body.
func (fe *fileEnv) get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(fe.base + url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// wantNoBlobs fails unless no key of the upload holds bytes.
func (fe *fileEnv) wantNoBlobs(t *testing.T, uploadID string) {
	t.Helper()
	for _, k := range []string{"in", "file", "thumb-320", "thumb-1280"} {
		if _, err := fe.blobs.Stat(context.Background(), "uploads/"+uploadID+"/"+k); confab.ErrorCode(err) != confab.CodeNotFound {
			t.Errorf("uploads/%s/%s: %v, want NOT_FOUND (nothing stored)", uploadID, k, err)
		}
	}
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var pdf = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func TestService_Upload_SendAndDownload(t *testing.T) {
	fe := newFileEnv(t, chat.UploadConfig{})
	ctx := context.Background()
	alice, bob := fe.user(t, "alice"), fe.user(t, "bob")
	c := fe.conversation(t, alice, bob)

	imgID := fe.upload(t, alice, c.ConversationID, "photo.png", "image/png", pngOf(t, 1300, 400))
	pdfID := fe.upload(t, alice, c.ConversationID, "report.pdf", "application/pdf", pdf)
	onlyImage, err := fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{imgID}})
	if err != nil {
		t.Fatal(err)
	}
	if onlyImage.MessageType != confab.MessageImage {
		t.Errorf("messageType = %s, want IMAGE", onlyImage.MessageType)
	}
	withText, err := fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Content: "the report", Attachments: []string{pdfID}})
	if err != nil {
		t.Fatal(err)
	}
	if withText.MessageType != confab.MessageText {
		t.Errorf("messageType with text = %s, want TEXT", withText.MessageType)
	}

	atts, err := fe.svc.MessageAttachments(ctx, bob, onlyImage)
	if err != nil || len(atts) != 1 {
		t.Fatalf("MessageAttachments = %v, %v; want one", atts, err)
	}
	a := atts[0]
	if a.Width == nil || *a.Width != 1300 || *a.Height != 400 || a.ThumbnailURL == nil || a.PreviewURL == nil {
		t.Fatalf("image attachment = %+v, want 1300 × 400 with thumbnails", a)
	}
	if a.ExpiresAt.After(fe.now().Add(chat.DefaultUploadGetTTL)) {
		t.Errorf("link expires at %v, more than %v ahead", a.ExpiresAt, chat.DefaultUploadGetTTL)
	}
	for url, want := range map[string]int{a.URL: 1300, *a.ThumbnailURL: 320, *a.PreviewURL: 1280} {
		status, body := fe.get(t, url)
		img, _, err := image.Decode(bytes.NewReader(body)) // the image a PNG, its thumbnails JPEGs (opaque)
		if status != 200 || err != nil {
			t.Fatalf("GET %s: %d, decode: %v", url, status, err)
		}
		if w := img.Bounds().Dx(); w != want {
			t.Errorf("GET %s: width %d, want %d", url, w, want)
		}
	}

	atts, err = fe.svc.MessageAttachments(ctx, bob, withText)
	if err != nil || len(atts) != 1 {
		t.Fatalf("MessageAttachments = %v, %v; want one", atts, err)
	}
	if status, body := fe.get(t, atts[0].URL); status != 200 || !bytes.Equal(body, pdf) {
		t.Fatalf("PDF download: %d, %d bytes; want the %d uploaded", status, len(body), len(pdf))
	}
	if atts[0].ThumbnailURL != nil || atts[0].Width != nil {
		t.Errorf("a PDF has a thumbnail or dimensions: %+v", atts[0])
	}
}

// TestService_Upload_Authorization: only members create uploads and get
// links; an upload is used once, by its owner, in its conversation.
func TestService_Upload_Authorization(t *testing.T) {
	fe := newFileEnv(t, chat.UploadConfig{})
	ctx := context.Background()
	alice, bob, carol := fe.user(t, "alice"), fe.user(t, "bob"), fe.user(t, "carol")
	c := fe.conversation(t, alice, bob)
	other := fe.conversation(t, alice, carol)

	_, err := fe.svc.CreateUpload(ctx, carol, c.ConversationID, "a.txt", "text/plain", 3)
	wantCode(t, err, confab.CodeNotFound)

	id := fe.upload(t, alice, c.ConversationID, "a.txt", "text/plain", []byte("hi!"))
	_, err = fe.svc.SendMessage(ctx, bob, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{id}})
	wantCode(t, err, confab.CodeNotFound) // another user's upload
	_, err = fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: other.ConversationID, Attachments: []string{id}})
	wantCode(t, err, confab.CodeNotFound) // another conversation
	_, err = fe.svc.CompleteUpload(ctx, bob, id)
	wantCode(t, err, confab.CodeNotFound)

	m, err := fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{id}})
	wantCode(t, err, confab.CodeConflict) // used twice
	_, err = fe.svc.MessageAttachments(ctx, carol, m)
	wantCode(t, err, confab.CodeNotFound)
	if atts, err := fe.svc.MessageAttachments(ctx, bob, m); err != nil || len(atts) != 1 {
		t.Fatalf("member: %v, %v", atts, err)
	}
}

// TestService_CreateUpload_ErrDeclared: what a client declares is
// checked before any byte is accepted.
func TestService_CreateUpload_ErrDeclared(t *testing.T) {
	fe := newFileEnv(t, chat.UploadConfig{MaxBytes: 1000})
	alice := fe.user(t, "alice")
	c := fe.conversation(t, alice)
	tests := []struct {
		name, file, ctype string
		size              int64
	}{
		{"TypeNotAllowed", "page.html", "text/html", 10},
		{"SVG", "logo.svg", "image/svg+xml", 10},
		{"LyingExtension", "report.pdf", "image/png", 10},
		{"TooLarge", "a.txt", "text/plain", 1001},
		{"Empty", "a.txt", "text/plain", 0},
		{"NoName", "", "text/plain", 10},
		{"BadType", "a.txt", "text/", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fe.svc.CreateUpload(context.Background(), alice, c.ConversationID, tt.file, tt.ctype, tt.size)
			wantCode(t, err, confab.CodeInvalid)
		})
	}
}

// pngBomb is a PNG header declaring 100,000 × 100,000 pixels.
func pngBomb() []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, 100_000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 100_000)
	ihdr = append(ihdr, 8, 0, 0, 0, 0)
	chunk := append(binary.BigEndian.AppendUint32(nil, 13), "IHDR"...)
	chunk = append(chunk, ihdr...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	b := append([]byte("\x89PNG\r\n\x1a\n"), chunk...)
	return append(b, make([]byte, 600)...)
}

// TestService_Upload_ErrContent: bytes that are not what was declared
// are refused at send, and nothing of them stays stored.
func TestService_Upload_ErrContent(t *testing.T) {
	fe := newFileEnv(t, chat.UploadConfig{})
	ctx := context.Background()
	alice := fe.user(t, "alice")
	c := fe.conversation(t, alice)
	tests := []struct {
		name, file, ctype string
		body              []byte
	}{
		{"PDFAsPNG", "photo.png", "image/png", pdf},
		{"HTMLAsText", "notes.txt", "text/plain", []byte("<html><script>alert(1)</script></html>")},
		{"Bomb", "big.png", "image/png", pngBomb()},
		{"TruncatedPNG", "cut.png", "image/png", pngOf(t, 64, 64)[:100]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fe.upload(t, alice, c.ConversationID, tt.file, tt.ctype, tt.body)
			_, err := fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{id}})
			wantCode(t, err, confab.CodeInvalid)
			fe.wantNoBlobs(t, id)
		})
	}
	t.Run("NotUploaded", func(t *testing.T) {
		target, err := fe.svc.CreateUpload(ctx, alice, c.ConversationID, "a.txt", "text/plain", 5)
		if err != nil {
			t.Fatal(err)
		}
		if status := fe.put(t, target, []byte("longer than five")); status != http.StatusBadRequest {
			t.Fatalf("PUT of another size: %d, want 400", status)
		}
		_, err = fe.svc.CompleteUpload(ctx, alice, target.UploadID)
		wantCode(t, err, confab.CodeInvalid)
		fe.wantNoBlobs(t, target.UploadID)
	})
}

func TestService_CreateUpload_Quota(t *testing.T) {
	fe := newFileEnv(t, chat.UploadConfig{QuotaBytesPerDay: 1000})
	ctx := context.Background()
	alice, bob := fe.user(t, "alice"), fe.user(t, "bob")
	c := fe.conversation(t, alice, bob)
	if _, err := fe.svc.CreateUpload(ctx, alice, c.ConversationID, "a.txt", "text/plain", 600); err != nil {
		t.Fatal(err)
	}
	_, err := fe.svc.CreateUpload(ctx, alice, c.ConversationID, "b.txt", "text/plain", 500)
	wantCode(t, err, confab.CodeLimited)
	if e, _ := err.(*confab.Error); e == nil || e.RetryAfter <= 0 || e.RetryAfter > 24*time.Hour {
		t.Errorf("RetryAfter of %v, want until midnight UTC", err)
	}
	if _, err := fe.svc.CreateUpload(ctx, bob, c.ConversationID, "b.txt", "text/plain", 500); err != nil {
		t.Fatalf("another user's quota: %v", err)
	}
	fe.advance(24 * time.Hour)
	if _, err := fe.svc.CreateUpload(ctx, alice, c.ConversationID, "b.txt", "text/plain", 500); err != nil {
		t.Fatalf("the next day: %v", err)
	}
}

// TestService_SweepUploads: uploads never attached expire, and a deleted
// message's files go; a live message's stay.
func TestService_SweepUploads(t *testing.T) {
	fe := newFileEnv(t, chat.UploadConfig{AttachTTL: time.Hour})
	ctx := context.Background()
	alice := fe.user(t, "alice")
	c := fe.conversation(t, alice)
	pending := fe.upload(t, alice, c.ConversationID, "a.txt", "text/plain", []byte("pending"))
	kept := fe.upload(t, alice, c.ConversationID, "b.txt", "text/plain", []byte("kept"))
	gone := fe.upload(t, alice, c.ConversationID, "c.png", "image/png", pngOf(t, 20, 20))
	live, err := fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{kept}})
	if err != nil {
		t.Fatal(err)
	}
	deleted, err := fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{gone}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := fe.svc.SweepUploads(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before anything died: %d, %v", n, err)
	}
	if _, err := fe.svc.DeleteMessage(ctx, alice, c.ConversationID, deleted.MessageID); err != nil {
		t.Fatal(err)
	}
	if atts, err := fe.svc.MessageAttachments(ctx, alice, &confab.Message{MessageID: deleted.MessageID, ConversationID: c.ConversationID, Deleted: true}); err != nil || len(atts) != 0 {
		t.Fatalf("a deleted message's attachments: %v, %v", atts, err)
	}
	if n, err := fe.svc.SweepUploads(ctx); err != nil || n != 1 {
		t.Fatalf("sweep after the delete: %d, %v; want 1", n, err)
	}
	fe.wantNoBlobs(t, gone)
	fe.advance(time.Hour + time.Second)
	if n, err := fe.svc.SweepUploads(ctx); err != nil || n != 1 {
		t.Fatalf("sweep after the attach window: %d, %v; want 1", n, err)
	}
	fe.wantNoBlobs(t, pending)
	_, err = fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{pending}})
	wantCode(t, err, confab.CodeNotFound)
	if atts, err := fe.svc.MessageAttachments(ctx, alice, live); err != nil || len(atts) != 1 {
		t.Fatalf("the live message's attachments: %v, %v", atts, err)
	}
	if _, err := fe.blobs.Stat(ctx, "uploads/"+kept+"/file"); err != nil {
		t.Fatalf("the live message's file: %v", err)
	}
}

func TestService_SendMessage_ErrAttachments(t *testing.T) {
	fe := newFileEnv(t, chat.UploadConfig{})
	ctx := context.Background()
	alice := fe.user(t, "alice")
	c := fe.conversation(t, alice)
	id := fe.upload(t, alice, c.ConversationID, "a.txt", "text/plain", []byte("x"))
	_, err := fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{id, id}})
	wantCode(t, err, confab.CodeInvalid)
	many := make([]string, chat.MaxAttachments+1)
	for i := range many {
		many[i] = id + string(rune('a'+i))
	}
	_, err = fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: many})
	wantCode(t, err, confab.CodeInvalid)
	_, err = fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{"not-an-upload"}})
	wantCode(t, err, confab.CodeNotFound)
	// Without files enabled, attachments are refused.
	plain := newEnv(t, chat.Config{})
	a := plain.user(t, "a")
	pc := plain.conversation(t, a)
	_, err = plain.svc.SendMessage(ctx, a, chat.SendMessageInput{ConversationID: pc.ConversationID, Content: "x", Attachments: []string{id}})
	wantCode(t, err, confab.CodeInvalid)
}

// TestService_Upload_SmallImageIsItsOwnThumbnail: an image within a
// thumbnail size is never upscaled: its links serve the image itself.
func TestService_Upload_SmallImageIsItsOwnThumbnail(t *testing.T) {
	fe := newFileEnv(t, chat.UploadConfig{})
	ctx := context.Background()
	alice := fe.user(t, "alice")
	c := fe.conversation(t, alice)
	small := pngOf(t, 200, 100)
	id := fe.upload(t, alice, c.ConversationID, "small.png", "image/png", small)
	a, err := fe.svc.CompleteUpload(ctx, alice, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*string{a.ThumbnailURL, a.PreviewURL} {
		if u == nil {
			t.Fatal("no thumbnail link")
		}
		if status, body := fe.get(t, *u); status != 200 || !bytes.Equal(body, small) {
			t.Fatalf("thumbnail link: %d, %d bytes; want the %d-byte image itself", status, len(body), len(small))
		}
	}
}

// TestService_CompleteUpload_ErrBusy: with as many images admitted as the
// processor takes, another is UNAVAILABLE (retryable) and keeps its bytes:
// the same call succeeds once a place is free.
func TestService_CompleteUpload_ErrBusy(t *testing.T) {
	img := blobimage.New(blobimage.Config{Workers: 1, MaxJobs: 1})
	fe := newFileEnvWith(t, chat.UploadConfig{}, img)
	ctx := context.Background()
	alice := fe.user(t, "alice")
	c := fe.conversation(t, alice)
	id := fe.upload(t, alice, c.ConversationID, "a.png", "image/png", pngOf(t, 30, 30))
	release, err := img.Admit() // the one place is taken
	if err != nil {
		t.Fatal(err)
	}
	_, err = fe.svc.CompleteUpload(ctx, alice, id)
	wantCode(t, err, confab.CodeUnavailable)
	release()
	if _, err := fe.svc.CompleteUpload(ctx, alice, id); err != nil {
		t.Fatalf("after the place is free: %v", err)
	}
}

// TestService_SendMessage_RetryWithAttachments: a send with files retried
// with its clientToken (its answer was lost) returns the stored message,
// files intact; the same token for other files is CONFLICT and leaves the
// stored message's files attached.
func TestService_SendMessage_RetryWithAttachments(t *testing.T) {
	fe := newFileEnv(t, chat.UploadConfig{})
	ctx := context.Background()
	alice, bob := fe.user(t, "alice"), fe.user(t, "bob")
	c := fe.conversation(t, alice, bob)
	img := fe.upload(t, alice, c.ConversationID, "photo.png", "image/png", pngOf(t, 40, 30))
	in := chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{img}, ClientToken: "tok"}
	first, err := fe.svc.SendMessage(ctx, alice, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := fe.svc.SendMessage(ctx, alice, in)
	if err != nil {
		t.Fatalf("retry: %v, want the stored message", err)
	}
	if again.MessageID != first.MessageID || again.MessageType != confab.MessageImage {
		t.Fatalf("retry = %s %s, want %s IMAGE", again.MessageID, again.MessageType, first.MessageID)
	}

	other := fe.upload(t, alice, c.ConversationID, "other.pdf", "application/pdf", pdf)
	_, err = fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{other}, ClientToken: "tok"})
	wantCode(t, err, confab.CodeConflict)
	atts, err := fe.svc.MessageAttachments(ctx, bob, first)
	if err != nil || len(atts) != 1 || atts[0].AttachmentID != img {
		t.Fatalf("after a conflicting retry the message's files = %+v, %v; want %s still attached", atts, err, img)
	}
	// The refused send's upload is free again: a new message may use it.
	if _, err := fe.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{other}}); err != nil {
		t.Fatalf("sending the refused send's upload: %v", err)
	}
	msgs, err := fe.svc.ListMessages(ctx, bob, c.ConversationID, nil, nil)
	if err != nil || len(msgs.Items) != 2 {
		t.Fatalf("ListMessages = %v, %v; want the two messages (no duplicate from the retry)", msgs, err)
	}
}
