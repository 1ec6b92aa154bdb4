package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDiskFull_UnavailableAndNotReady fills a real filesystem under a
// SQLite store: sends fail with UNAVAILABLE (retryable, not an internal
// error), /readyz answers 503 saying why, and both recover once there is
// room again. It mounts a 4 MiB tmpfs, so it needs root (CI runs as root).
func TestDiskFull_UnavailableAndNotReady(t *testing.T) {
	dir := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).Run(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v", err)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	st := openTestStore(t, filepath.Join(dir, "confab.db"))
	ts := newTestServer(t, Config{}, st)
	token := signUpAndIn(t, ts)
	_, out := postGraphQLRaw(t, ts, token, `{"query":"mutation { createConversation(input: {participants: []}) { conversationId } }"}`)
	conv, _ := out["data"].(map[string]any)["createConversation"].(map[string]any)["conversationId"].(string)
	if conv == "" {
		t.Fatalf("createConversation: %v", out)
	}
	if status, body := getReadyz(t, ts); status != http.StatusOK {
		t.Fatalf("readyz before = %d %v", status, body)
	}

	filler := filepath.Join(dir, "filler")
	fillDisk(t, filler)
	sendBody, _ := json.Marshal(map[string]string{"query": fmt.Sprintf(`mutation { sendMessage(input: {conversationId: %q, content: %q}) { seq } }`, conv, strings.Repeat("x", 8000))})
	send := string(sendBody)
	var code string
	for range 200 { // pages the WAL still had room for are used up within a few sends
		_, out := postGraphQLRaw(t, ts, token, send)
		if code, _ = firstErrorCode(out); code != "" {
			break
		}
	}
	if code != "UNAVAILABLE" {
		t.Fatalf("send on a full disk: code %q, want UNAVAILABLE", code)
	}
	status, body := getReadyz(t, ts)
	reasons, _ := body["reasons"].(map[string]any)
	if status != http.StatusServiceUnavailable || body["store"] != "unavailable" || !strings.Contains(fmt.Sprint(reasons["store"]), "disk is full") {
		t.Errorf("readyz on a full disk = %d %v, want 503 naming the store's disk", status, body)
	}
	if strings.Contains(ts.logText(), `"msg":"internal error"`) {
		t.Errorf("logged as an internal error:\n%s", ts.logText())
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if status, body := getReadyz(t, ts); status != http.StatusOK {
		t.Errorf("readyz after making room = %d %v", status, body)
	}
	if _, out := postGraphQLRaw(t, ts, token, send); out["errors"] != nil {
		t.Errorf("send after making room: %v", out["errors"])
	}
}

// fillDisk writes path until the filesystem refuses with ENOSPC.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

func getReadyz(t *testing.T, ts *testServer) (int, map[string]any) {
	t.Helper()
	res, err := http.Get(ts.URL() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, out
}
