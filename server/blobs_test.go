package server

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/blob/disk"
)

// TestBlobs_SlowUploadOutlivesReadTimeout: an upload to a presigned URL
// may take longer than ReadTimeout (sized for API calls), and is then
// downloadable byte for byte through the same server.
func TestBlobs_SlowUploadOutlivesReadTimeout(t *testing.T) {
	blobs, err := disk.Open(disk.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Config{ReadTimeout: 100 * time.Millisecond, Blobs: blobs.Handler()}, nil)
	body := bytes.Repeat([]byte("0123456789"), 1000)
	put, err := blobs.PresignPut(t.Context(), "u/slow", confab.PutParams{ContentType: "text/plain", Size: int64(len(body)), Expires: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(put.Method, ts.URL()+put.URL, pr)
	req.ContentLength = int64(len(body))
	req.Header = put.Headers.Clone()
	go func() {
		pw.Write(body[:10])
		// Longer than ReadTimeout: the point of the test.
		<-time.After(300 * time.Millisecond)
		pw.Write(body[10:])
		pw.Close()
	}()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("slow PUT: status %d, want 200", resp.StatusCode)
	}
	get, _ := blobs.PresignGet(t.Context(), "u/slow", confab.GetParams{ContentType: "text/plain", FileName: "slow.txt", Expires: time.Now().Add(time.Minute)})
	resp, err = http.Get(ts.URL() + get.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("GET: status %d, %d bytes; want 200 and the %d uploaded", resp.StatusCode, len(got), len(body))
	}
}

// TestBlobs_NoEngine: without a disk engine the path is not found.
func TestBlobs_NoEngine(t *testing.T) {
	ts := newTestServer(t, Config{}, nil)
	resp, err := http.Get(ts.URL() + BlobPathPrefix + "u/x?exp=1&sig=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
}

// TestBlobs_CrossOriginUpload: a web client on an allowed origin may PUT
// to a presigned URL (the preflight allows PUT and the headers asked).
func TestBlobs_CrossOriginUpload(t *testing.T) {
	blobs, err := disk.Open(disk.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Config{AllowedOrigins: []string{"https://app.example"}, Blobs: blobs.Handler()}, nil)
	req, _ := http.NewRequest(http.MethodOptions, ts.URL()+BlobPathPrefix+"uploads/x/in?exp=1&size=1&sig=x", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!bytes.Contains([]byte(h.Get("Access-Control-Allow-Methods")), []byte("PUT")) || h.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, h)
	}
}
