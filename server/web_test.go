package server

import (
	"bytes"
	"os"
	"testing"
)

// TestWithBase: the web client's index.html carries the <base href> that
// withBase rewrites for a workspace (vite keeps it as written; the browser
// test loads a workspace's deep link through it).
func TestWithBase(t *testing.T) {
	index, err := os.ReadFile("../web/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(index, []byte(indexBase)) {
		t.Fatalf("web/index.html has no %s for withBase to rewrite", indexBase)
	}
	got := withBase(index, "/w/acme/")
	if !bytes.Contains(got, []byte(`<base href="/w/acme/" />`)) || bytes.Contains(got, []byte(indexBase)) {
		t.Fatalf("withBase = %s, want <base href=\"/w/acme/\" /> instead of %s", got, indexBase)
	}
}
