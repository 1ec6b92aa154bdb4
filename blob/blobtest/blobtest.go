// Package blobtest is the contract every confab.BlobStore must pass. Run
// checks what the BlobStore doc comments promise, through the interface
// and real HTTP requests to the URLs it mints, so the disk and S3 engines
// run the very same suite against their real servers.
//
// It imports only the root package and the standard library. It never
// skips: a backend that cannot run it decides that before calling Run.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

// Run runs the contract suite, one parallel subtest per property, named
// <Method>/<Property>. open must return a store whose URLs the test
// process can reach (absolute URLs), registering its own cleanup; each
// subtest calls it once and uses keys no other subtest uses.
func Run(t *testing.T, open func(t *testing.T) confab.BlobStore) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(&fixture{t: t, s: open(t), ctx: t.Context()})
		})
	}
}

type test struct {
	name string
	fn   func(f *fixture)
}

// fixture is one subtest's store.
type fixture struct {
	t   *testing.T
	s   confab.BlobStore
	ctx context.Context
}

var keySeq atomic.Int64

// key returns a key no other subtest of this process uses, also when
// several processes share one bucket.
func (f *fixture) key(name string) string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("blobtest/%x-%d/%s", b, keySeq.Add(1), name)
}

func (f *fixture) soon() time.Time { return time.Now().Add(2 * time.Minute) }

// payload returns n random bytes.
func payload(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// do sends the presigned request with body, adding or overriding headers
// with extra, and returns the status and the response body.
func (f *fixture) do(req *confab.PresignedRequest, body []byte, extra http.Header) (int, []byte, http.Header) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequestWithContext(f.ctx, req.Method, req.URL, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range req.Headers {
		r.Header[k] = v
	}
	for k, v := range extra {
		r.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		f.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, got, resp.Header
}

// upload presigns a PUT of body under key and sends it; it fails the test
// unless the upload succeeds.
func (f *fixture) upload(key, ctype string, body []byte) {
	f.t.Helper()
	req, err := f.s.PresignPut(f.ctx, key, confab.PutParams{ContentType: ctype, Size: int64(len(body)), Expires: f.soon()})
	if err != nil {
		f.t.Fatal(err)
	}
	if status, resp, _ := f.do(req, body, nil); status/100 != 2 {
		f.t.Fatalf("PUT status = %d (%s), want 2xx", status, resp)
	}
}

// wantCode fails unless err has the code want.
func (f *fixture) wantCode(err error, want confab.Code) {
	f.t.Helper()
	if got := confab.ErrorCode(err); err == nil || got != want {
		f.t.Fatalf("error = %v (code %s), want code %s", err, got, want)
	}
}

// wantAbsent fails unless nothing is stored under key.
func (f *fixture) wantAbsent(key string) {
	f.t.Helper()
	_, err := f.s.Stat(f.ctx, key)
	f.wantCode(err, confab.CodeNotFound)
}

// wantContent fails unless key holds exactly want, read through Stat and
// Open.
func (f *fixture) wantContent(key string, want []byte) {
	f.t.Helper()
	size, err := f.s.Stat(f.ctx, key)
	if err != nil {
		f.t.Fatal(err)
	}
	if size != int64(len(want)) {
		f.t.Fatalf("Stat = %d bytes, want %d", size, len(want))
	}
	rc, err := f.s.Open(f.ctx, key)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		f.t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		f.t.Fatalf("Open read %d bytes differing from the %d stored", len(got), len(want))
	}
}

// refused fails unless status is a 4xx. It takes do's results whole.
func (f *fixture) refused(status int, body []byte, _ http.Header) {
	f.t.Helper()
	if status < 400 || status >= 500 {
		f.t.Fatalf("status = %d (%s), want a 4xx refusal", status, body)
	}
}

// otherKeyURL returns u with the path's key replaced by other.
func otherKeyURL(t *testing.T, u, key, other string) string {
	t.Helper()
	path, query, _ := strings.Cut(u, "?")
	if !strings.HasSuffix(path, "/"+key) {
		t.Fatalf("URL %s does not end its path with the key %s", u, key)
	}
	return strings.TrimSuffix(path, key) + other + "?" + query
}

var tests = append(append([]test{}, putTests...), getTests...)
