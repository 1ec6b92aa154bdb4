package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestCrash_AcknowledgedSendsSurviveKill9 drives concurrent sendMessage
// load against the real binary, kills it with SIGKILL after a random
// number of acknowledged sends, restarts it on the same data, and checks
// that every acknowledged message is present exactly once and that seqs
// are gapless. Three kill cycles.
func TestCrash_AcknowledgedSendsSurviveKill9(t *testing.T) {
	testCrash(t)
}

// TestCrash_DynamoDB is the crash test with the store on DynamoDB.
func TestCrash_DynamoDB(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	testCrash(t, dynamoStoreArgs(t)...)
}

func testCrash(t *testing.T, storeArgs ...string) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	start := func() (*exec.Cmd, *app) {
		t.Helper()
		return startProcess(t, bin, append([]string{"--data", data}, storeArgs...)...)
	}

	cmd, a := start()
	alice := a.signUp(t, "alice")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{}})["createConversation"].(map[string]any)["conversationId"].(string)

	acked := map[string]int64{} // messageId → seq, for every send that returned success
	var total, lost int
	for cycle := range 3 {
		killAfter := int64(50 + rand.IntN(250))
		var mu sync.Mutex
		var n atomic.Int64
		var wg sync.WaitGroup
		client := &http.Client{Timeout: 10 * time.Second}
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					body, _ := json.Marshal(map[string]any{"query": sendMsg, "variables": map[string]any{"c": cid, "t": fmt.Sprintf("c%d w%d i%d", cycle, w, i)}})
					req, _ := http.NewRequest(http.MethodPost, a.url+"/graphql", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", alice.idToken)
					resp, err := client.Do(req)
					if err != nil {
						return // the server is gone
					}
					var out struct {
						Data struct {
							SendMessage *struct {
								MessageID string
								Seq       int64
							}
						}
					}
					err = json.NewDecoder(resp.Body).Decode(&out)
					resp.Body.Close()
					if err != nil || out.Data.SendMessage == nil {
						return
					}
					mu.Lock()
					acked[out.Data.SendMessage.MessageID] = out.Data.SendMessage.Seq
					mu.Unlock()
					if n.Add(1) == killAfter {
						cmd.Process.Signal(syscall.SIGKILL)
					}
				}
			}()
		}
		wg.Wait()
		cmd.Wait()
		cmd, a = start()
		// Tokens stay valid across restarts: same signing key on disk.
		found := map[string]int64{}
		var next any
		for {
			page := a.mustGQL(t, alice.idToken, `query($c:ID!,$n:String){ listMessages(conversationId:$c, limit:100, nextToken:$n){ items { messageId seq } nextToken } }`,
				map[string]any{"c": cid, "n": next})["listMessages"].(map[string]any)
			for _, it := range page["items"].([]any) {
				m := it.(map[string]any)
				id := m["messageId"].(string)
				if _, dup := found[id]; dup {
					t.Fatalf("cycle %d: message %s listed twice", cycle, id)
				}
				found[id] = int64(m["seq"].(float64))
			}
			if page["nextToken"] == nil {
				break
			}
			next = page["nextToken"]
		}
		maxSeq := int64(0)
		seqs := map[int64]bool{}
		for _, seq := range found {
			seqs[seq] = true
			maxSeq = max(maxSeq, seq)
		}
		for s := int64(1); s <= maxSeq; s++ {
			if !seqs[s] {
				t.Fatalf("cycle %d: seq %d missing of 1..%d: not gapless", cycle, s, maxSeq)
			}
		}
		lost = 0
		for id, seq := range acked {
			if got, ok := found[id]; !ok || got != seq {
				lost++
				t.Errorf("cycle %d: acknowledged message %s (seq %d) not found after kill -9 (found seq %d)", cycle, id, seq, got)
			}
		}
		total = len(acked)
		t.Logf("cycle %d: killed after %d acknowledged sends; acknowledged %d in all, found %d stored, lost %d", cycle, killAfter, total, len(found), lost)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if lost != 0 {
		t.Fatalf("%d of %d acknowledged messages lost", lost, total)
	}
}
