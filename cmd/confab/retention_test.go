package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMain_Retention runs serve with a 2 s --retention: the job deletes
// older messages from every read, /metrics counts them, the conversation
// keeps its LastSeq, and a subscriber resuming from a purged seq gets the
// next message instead of waiting for the purged ones.
func TestMain_Retention(t *testing.T) {
	a := runMain(t, "--retention", "2s")
	alice := a.signUp(t, "alice")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{}})["createConversation"].(map[string]any)["conversationId"].(string)
	for _, text := range []string{"old pizza 1", "old pizza 2", "old pizza 3"} {
		a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": text})
	}

	list := `query($c:ID!){ listMessages(conversationId:$c){ items { seq } } }`
	deadline := time.Now().Add(30 * time.Second)
	for {
		items, _ := a.mustGQL(t, alice.idToken, list, map[string]any{"c": cid})["listMessages"].(map[string]any)["items"].([]any) // null when empty
		if len(items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still listed; retention did not purge them", len(items))
		}
		time.Sleep(100 * time.Millisecond) // polling the job's effect: it runs on its own clock
	}

	if found, _ := a.mustGQL(t, alice.idToken, `query($c:ID!){ searchMessages(conversationId:$c, searchTerm:"pizza"){ seq } }`,
		map[string]any{"c": cid})["searchMessages"].([]any); len(found) != 0 {
		t.Fatalf("search finds %d purged messages", len(found))
	}
	conv := a.mustGQL(t, alice.idToken, `query($c:ID!){ getConversation(conversationId:$c){ lastMessage messageCount lastMessageAt } }`,
		map[string]any{"c": cid})["getConversation"].(map[string]any)
	if conv["lastMessage"] != nil || conv["messageCount"] != 0.0 || conv["lastMessageAt"] == nil {
		t.Fatalf("conversation after the purge = %v; want no preview, count 0, lastMessageAt kept", conv)
	}
	resp, err := http.Get(a.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "\nconfab_retention_purged_total 3\n") {
		t.Fatalf("/metrics lacks confab_retention_purged_total 3:\n%s", grepConfab(string(body), "retention"))
	}

	ws := a.dialGQLWS(t, alice.idToken)
	ws.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($c:ID!,$a:Int){ onMessageSent(conversationId:$c, afterSeq:$a){ seq } }`,
		"variables": map[string]any{"c": cid, "a": 1}}})
	sent := a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "new"})["sendMessage"].(map[string]any)
	if sent["seq"] != 4.0 {
		t.Fatalf("seq after the purge = %v, want 4 (never reused)", sent["seq"])
	}
	m := ws.read()
	if m["type"] != "next" || m["payload"].(map[string]any)["data"].(map[string]any)["onMessageSent"].(map[string]any)["seq"] != 4.0 {
		t.Fatalf("resumed from purged seq 1: first frame %v, want seq 4", m)
	}
}

// grepConfab returns the lines of text that contain word.
func grepConfab(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
