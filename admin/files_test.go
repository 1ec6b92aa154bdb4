package admin_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/confab-chat/confab/admin"
	"github.com/confab-chat/confab/blob/disk"
	blobimage "github.com/confab-chat/confab/blob/image"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/store/sqlite"
)

// TestService_DeleteConversationRemovesFiles: deleting a conversation
// removes the bytes of its files from the blob store, thumbnails included,
// not only the records.
func TestService_DeleteConversationRemovesFiles(t *testing.T) {
	dir := t.TempDir()
	blobs, err := disk.Open(disk.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(disk.PathPrefix, blobs.Handler())
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := newEnvWith(t, func(st *sqlite.Store) []chat.Option {
		return []chat.Option{chat.WithUploads(blobs, st, blobimage.New(blobimage.Config{}), chat.UploadConfig{})}
	})
	root, ann := e.admin(t, "root"), e.user(t, "ann")
	c := e.conversation(t, ann)
	body := pngOf(t, 400, 300)
	target, err := e.chat.CreateUpload(ctx, ann, c.ConversationID, "photo.png", "image/png", int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(target.Method, ts.URL+target.URL, bytes.NewReader(body))
	req.Header = target.Headers.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	if _, err := e.chat.CompleteUpload(ctx, ann, target.UploadID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.SendMessage(ctx, ann, chat.SendMessageInput{ConversationID: c.ConversationID, Attachments: []string{target.UploadID}}); err != nil {
		t.Fatal(err)
	}
	if n := objects(t, dir); n < 2 {
		t.Fatalf("%d blobs after an image upload, want the file and a thumbnail", n)
	}

	if err := e.svc.DeleteConversation(ctx, admin.Caller(root), c.ConversationID, ""); err != nil {
		t.Fatal(err)
	}
	if n := objects(t, dir); n != 0 {
		t.Errorf("%d blobs left after the conversation was deleted, want 0", n)
	}
}

// pngOf returns a w×h PNG: large enough and it gets thumbnails.
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// objects counts the files the disk blob engine keeps under dir.
func objects(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, "objects"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
