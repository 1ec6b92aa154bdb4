package disk_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/blob/blobtest"
	"github.com/confab-chat/confab/blob/disk"
)

// open returns a Store on a fresh directory whose URLs point at a real
// HTTP server serving its Handler on 127.0.0.1.
func open(t *testing.T, now func() time.Time) (*disk.Store, string) {
	t.Helper()
	dir := t.TempDir()
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	s, err := disk.Open(disk.Config{Dir: dir, BaseURL: ts.URL, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(disk.PathPrefix, s.Handler())
	return s, dir
}

func TestStore_Contract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) confab.BlobStore {
		s, _ := open(t, nil)
		return s
	})
}

// TestStore_TamperedURLRefused changes each signed part of a presigned PUT
// in turn: each is refused with 403 and nothing is stored.
func TestStore_TamperedURLRefused(t *testing.T) {
	s, dir := open(t, nil)
	body := []byte("hello")
	tests := []struct {
		name   string
		tamper func(q url.Values)
	}{
		{"Signature", func(q url.Values) { q.Set("sig", strings.Repeat("A", 43)) }},
		{"NoSignature", func(q url.Values) { q.Del("sig") }},
		{"LaterExpiry", func(q url.Values) { q.Set("exp", "99999999999") }},
		{"OtherSize", func(q url.Values) { q.Set("size", "6") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := s.PresignPut(t.Context(), "k/"+tt.name, confab.PutParams{ContentType: "text/plain", Size: 5, Expires: time.Now().Add(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(req.URL)
			q := u.Query()
			tt.tamper(q)
			u.RawQuery = q.Encode()
			if status := put(t, u.String(), "text/plain", body); status != http.StatusForbidden {
				t.Fatalf("status = %d, want 403", status)
			}
			if _, err := os.Stat(filepath.Join(dir, "objects", "k", tt.name)); !os.IsNotExist(err) {
				t.Fatalf("a refused PUT stored a file (stat: %v)", err)
			}
		})
	}
}

// TestStore_ExpiryFollowsClock: a URL is good up to its expiry second and
// refused after it.
func TestStore_ExpiryFollowsClock(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, _ := open(t, clock)
	req, err := s.PresignPut(t.Context(), "k/a", confab.PutParams{ContentType: "text/plain", Size: 2, Expires: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if status := put(t, req.URL, "text/plain", []byte("ok")); status != http.StatusOK {
		t.Fatalf("in time: status = %d, want 200", status)
	}
	mu.Lock()
	now = now.Add(time.Minute + time.Second)
	mu.Unlock()
	if status := put(t, req.URL, "text/plain", []byte("no")); status != http.StatusForbidden {
		t.Fatalf("after expiry: status = %d, want 403", status)
	}
}

// TestStore_AbortedUploadStoresNothing: a client that sends part of the
// body and hangs up leaves no object and no temporary file.
func TestStore_AbortedUploadStoresNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := disk.Open(disk.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{}, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Handler().ServeHTTP(w, r)
		served <- struct{}{}
	}))
	t.Cleanup(ts.Close)
	req, err := s.PresignPut(t.Context(), "k/partial", confab.PutParams{ContentType: "text/plain", Size: 1000, Expires: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	r, _ := http.NewRequest(http.MethodPut, ts.URL+req.URL, pr)
	r.ContentLength = 1000
	r.Header.Set("Content-Type", "text/plain")
	go func() {
		if resp, err := http.DefaultClient.Do(r); err == nil {
			resp.Body.Close()
		}
	}()
	if _, err := pw.Write(bytes.Repeat([]byte("x"), 400)); err != nil {
		t.Fatal(err)
	}
	pw.CloseWithError(io.ErrUnexpectedEOF)
	select {
	case <-served:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not return after the client hung up")
	}
	if _, err := s.Stat(t.Context(), "k/partial"); confab.ErrorCode(err) != confab.CodeNotFound {
		t.Fatalf("Stat after an aborted upload: %v, want NotFound", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(entries) != 0 {
		t.Fatalf("tmp holds %d files after an aborted upload", len(entries))
	}
}

// TestStore_DownloadHeaders: a download cannot run as a page of the
// server's origin.
func TestStore_DownloadHeaders(t *testing.T) {
	s, _ := open(t, nil)
	if err := s.Put(t.Context(), "k/page", strings.NewReader("<script>alert(1)</script>"), 25, "text/html"); err != nil {
		t.Fatal(err)
	}
	req, err := s.PresignGet(t.Context(), "k/page", confab.GetParams{ContentType: "text/plain", FileName: "page.html", Expires: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for h, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "sandbox; default-src 'none'",
		"Content-Type":            "text/plain",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if got := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(got, "attachment") {
		t.Errorf("Content-Disposition = %q, want attachment", got)
	}
}

// TestOpen_KeepsSigningKey: URLs minted before a restart stay valid after.
func TestOpen_KeepsSigningKey(t *testing.T) {
	dir := t.TempDir()
	a, err := disk.Open(disk.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b, err := disk.Open(disk.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	p := confab.GetParams{ContentType: "text/plain", FileName: "a", Expires: time.Unix(2e9, 0)}
	ra, _ := a.PresignGet(t.Context(), "k", p)
	rb, _ := b.PresignGet(t.Context(), "k", p)
	if ra.URL != rb.URL {
		t.Fatalf("URLs differ after reopening: %s vs %s", ra.URL, rb.URL)
	}
	if !strings.HasPrefix(ra.URL, disk.PathPrefix+"k?") {
		t.Fatalf("URL = %s, want relative to the server", ra.URL)
	}
}

func put(t *testing.T, u, ctype string, body []byte) int {
	t.Helper()
	r, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
