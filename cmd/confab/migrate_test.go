package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
)

// TestMain_MigrateToPostgres fills an embedded deployment, migrates it into
// PostgreSQL, and serves it from there: the same password signs in, seqs,
// deletions, read marks and the conversation summary carried over.
func TestMain_MigrateToPostgres(t *testing.T) {
	pg := postgresURL(t)
	a := runMain(t)
	alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	var ids []string
	for i := range 5 {
		m := a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": fmt.Sprint("message ", i+1)})["sendMessage"].(map[string]any)
		ids = append(ids, m["messageId"].(string))
	}
	a.mustGQL(t, alice.idToken, `mutation($c:ID!,$m:ID!){ deleteMessage(conversationId:$c, messageId:$m){ messageId } }`, map[string]any{"c": cid, "m": ids[1]})
	a.mustGQL(t, bob.idToken, `mutation($c:ID!){ markConversationRead(conversationId:$c, seq:3){ lastSeq } }`, map[string]any{"c": cid})

	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if err := m.Run(context.Background(), []string{"migrate", "--data", a.data, "--postgres", pg}); err != nil {
		t.Fatal(err)
	}

	b := runMain(t, "--store", "postgres", "--postgres", pg, "--key-file", filepath.Join(a.data, "jwt-signing-key.pem"))
	status, body := b.postJSON(t, "/auth/login", map[string]string{"email": bob.email, "password": "Passw0rd!x"}, nil)
	if status != 200 {
		t.Fatalf("login on the migrated store: %d %v", status, body)
	}
	token := body["idToken"].(string)
	page := b.mustGQL(t, token, `query($c:ID!){ listMessages(conversationId:$c){ items { seq content } } }`, map[string]any{"c": cid})["listMessages"].(map[string]any)["items"].([]any)
	var seqs []float64
	for _, it := range page {
		seqs = append(seqs, it.(map[string]any)["seq"].(float64))
	}
	if fmt.Sprint(seqs) != "[5 4 3 1]" {
		t.Fatalf("migrated messages: seqs %v, want [5 4 3 1] (2 was deleted)", seqs)
	}
	conv := b.mustGQL(t, token, `query($c:ID!){ getConversation(conversationId:$c){ lastSeq messageCount lastMessage unreadCount } }`, map[string]any{"c": cid})["getConversation"].(map[string]any)
	if conv["lastSeq"].(float64) != 5 || conv["messageCount"].(float64) != 4 || conv["lastMessage"] != "message 5" || conv["unreadCount"].(float64) != 2 {
		t.Fatalf("migrated summary: %v", conv)
	}
	// The old tokens work too: same key file and issuer.
	b.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "after the migration"})
}
