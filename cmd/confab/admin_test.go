package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// adminFields is one operation per field of the admin API
// (graph/schema/admin.graphqls), with the variables it needs.
var adminFields = []struct {
	field, query string
}{
	{"adminUsers", `query { adminUsers(search: "a") { items { user { userId } email disabled } nextToken } }`},
	{"adminUser", `query($u: ID!) { adminUser(userId: $u) { email } }`},
	{"adminConversations", `query { adminConversations { items { conversationId } } }`},
	{"adminConversation", `query($c: ID!) { adminConversation(conversationId: $c) { conversationId } }`},
	{"adminReports", `query { adminReports { items { reportId } } }`},
	{"adminAuditLog", `query { adminAuditLog { items { entryId action } } }`},
	{"adminUsage", `query { adminUsage(days: 7) { from to messagesPerDay { day count } users } }`},
	{"adminSetUserDisabled", `mutation($u: ID!) { adminSetUserDisabled(userId: $u, disabled: true) { disabled } }`},
	{"adminDeleteUser", `mutation($u: ID!) { adminDeleteUser(userId: $u, deleteMessages: true) }`},
	{"adminResetPassword", `mutation($u: ID!) { adminResetPassword(userId: $u) }`},
	{"adminSignOutUser", `mutation($u: ID!) { adminSignOutUser(userId: $u) }`},
	{"adminSetAdmin", `mutation($u: ID!) { adminSetAdmin(userId: $u, admin: true) { email } }`},
	{"adminBanUser", `mutation($u: ID!) { adminBanUser(userId: $u, reason: "x") { disabled } }`},
	{"adminUnbanUser", `mutation($u: ID!) { adminUnbanUser(userId: $u) { disabled } }`},
	{"adminArchiveConversation", `mutation($c: ID!) { adminArchiveConversation(conversationId: $c, archived: true) { conversationId } }`},
	{"adminDeleteConversation", `mutation($c: ID!) { adminDeleteConversation(conversationId: $c) }`},
	{"adminResolveReport", `mutation { adminResolveReport(reportId: "r", status: DISMISSED) { reportId } }`},
}

// TestAdmin_APIRefusesNonAdmins: over the real server, every field of the
// admin API answers FORBIDDEN to a user who is not a server administrator
// and changes nothing; once `confab admin grant` made them one, the same
// queries work.
func TestAdmin_APIRefusesNonAdmins(t *testing.T) {
	a := runMain(t)
	alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
	conv := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)
	vars := map[string]any{"u": bob.userID, "c": conv["conversationId"]}
	for _, f := range adminFields {
		t.Run(f.field, func(t *testing.T) {
			v := map[string]any{}
			for k, val := range vars {
				if strings.Contains(f.query, "$"+k) {
					v[k] = val
				}
			}
			status, body := a.gql(t, alice.idToken, f.query, v)
			if status != http.StatusOK || errCode(body) != "FORBIDDEN" {
				t.Fatalf("%s as a member: %d %v, want FORBIDDEN", f.field, status, body)
			}
			if data, _ := body["data"].(map[string]any); data != nil && data[f.field] != nil {
				t.Errorf("%s as a member returned data %v", f.field, data[f.field])
			}
		})
	}
	if status, _ := a.gql(t, bob.idToken, `{ me { userId } }`, nil); status != http.StatusOK {
		t.Fatalf("bob after the refusals: %d, want his account untouched", status)
	}

	runCLI(t, "admin", "grant", alice.email, "--data", a.data)
	got := a.mustGQL(t, alice.idToken, `query { adminUsers { items { user { userId isAdmin } email } } }`, nil)["adminUsers"].(map[string]any)["items"].([]any)
	if len(got) != 2 {
		t.Fatalf("adminUsers as an administrator: %v, want alice and bob", got)
	}
	usage := a.mustGQL(t, alice.idToken, `query { adminUsage(days: 3) { messagesPerDay { day count } users conversations } }`, nil)["adminUsage"].(map[string]any)
	if days := usage["messagesPerDay"].([]any); len(days) != 3 || usage["users"].(float64) != 2 || usage["conversations"].(float64) != 1 {
		t.Errorf("adminUsage = %v, want 3 days, 2 users, 1 conversation", usage)
	}
}

// TestAdmin_DisableClosesLiveConnection: an administrator disabling a
// user closes that user's open WebSocket at once (4403) and their token
// stops working; a ban keeps them from signing in until it is lifted.
func TestAdmin_DisableClosesLiveConnection(t *testing.T) {
	a := runMain(t)
	root, bob := a.signUp(t, "root"), a.signUp(t, "bob")
	runCLI(t, "admin", "grant", root.userID, "--data", a.data)
	ws := a.dialGQLWS(t, bob.idToken)

	start := time.Now()
	a.mustGQL(t, root.idToken, `mutation($u: ID!) { adminSetUserDisabled(userId: $u, disabled: true, reason: "spam") { disabled } }`, map[string]any{"u": bob.userID})
	ws.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, _, err := ws.conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4403 {
		t.Fatalf("bob's socket after disable: %v, want close 4403", err)
	}
	if took := time.Since(start); took >= 30*time.Second {
		t.Fatalf("socket closed after %v: that is the revocation check, not the disable", took)
	}
	if status, _ := a.gql(t, bob.idToken, `{ me { userId } }`, nil); status != http.StatusUnauthorized {
		t.Errorf("bob's token after disable: %d, want 401", status)
	}

	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	a.mustGQL(t, root.idToken, `mutation($u: ID!, $t: AWSDateTime) { adminBanUser(userId: $u, until: $t) { ban { until } } }`, map[string]any{"u": bob.userID, "t": until})
	login := map[string]string{"email": bob.email, "password": "Passw0rd!x"}
	if status, body := a.postJSON(t, "/auth/login", login, nil); status == http.StatusOK {
		t.Fatalf("banned bob signed in: %v", body)
	}
	a.mustGQL(t, root.idToken, `mutation($u: ID!) { adminUnbanUser(userId: $u) { disabled } }`, map[string]any{"u": bob.userID})
	if status, body := a.postJSON(t, "/auth/login", login, nil); status != http.StatusOK {
		t.Fatalf("bob after unban: %d %v", status, body)
	}
	log := a.mustGQL(t, root.idToken, `query($u: ID) { adminAuditLog(userId: $u) { items { action actorId reason } } }`, map[string]any{"u": bob.userID})["adminAuditLog"].(map[string]any)["items"].([]any)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if got := strings.Join(actions, " "); got != "USER_UNBANNED USER_BANNED USER_DISABLED" {
		t.Errorf("audit log of bob = %s", got)
	}
}

// TestAdmin_CLI: the command line acts with no administrator account:
// grant, search, disable, ban with --until, reset-password, the audit log,
// usage and export-user.
func TestAdmin_CLI(t *testing.T) {
	data := t.TempDir()
	carolID := strings.TrimSpace(runCLI(t, "user", "create", "--data", data, "--email", "carol@example.com", "--password", "Passw0rd!x", "--username", "carol"))
	runCLI(t, "user", "create", "--data", data, "--email", "dan@example.com", "--password", "Passw0rd!x", "--username", "dan")

	if out := runCLI(t, "admin", "grant", "carol", "--data", data); !strings.Contains(out, carolID+" admin=true") {
		t.Errorf("grant: %q", out)
	}
	out := runCLI(t, "admin", "users", "--data", data, "--search", "da")
	if !strings.Contains(out, "dan@example.com") || strings.Contains(out, "carol@example.com") {
		t.Errorf("users --search da:\n%s", out)
	}
	runCLI(t, "admin", "disable", "dan", "--data", data, "--reason", "spam")
	if out := runCLI(t, "admin", "users", "--data", data); !regexp.MustCompile(`dan@example\.com\s+false\s+true`).MatchString(out) {
		t.Errorf("users after disable:\n%s", out)
	}
	runCLI(t, "admin", "ban", "--data", data, "--until", "2099-01-02T03:04:05Z", "--reason", "abuse", "dan")
	if out := runCLI(t, "admin", "users", "--data", data, "--search", "dan"); !strings.Contains(out, "2099-01-02T03:04:05Z") {
		t.Errorf("users after ban:\n%s", out)
	}
	if pw := strings.TrimSpace(runCLI(t, "admin", "reset-password", "carol", "--data", data)); len(pw) < 16 {
		t.Errorf("reset-password printed %q", pw)
	}
	out = runCLI(t, "admin", "audit", "--data", data)
	for _, action := range []string{"ADMIN_GRANTED", "USER_DISABLED", "USER_BANNED", "PASSWORD_RESET", "(command line)", `"abuse"`} {
		if !strings.Contains(out, action) {
			t.Errorf("audit lacks %s:\n%s", action, out)
		}
	}
	if out := runCLI(t, "admin", "usage", "--data", data, "--days", "2"); !strings.Contains(out, "users 2") {
		t.Errorf("usage:\n%s", out)
	}
	var export struct {
		Profile struct{ Email string }
	}
	raw := runCLI(t, "admin", "export-user", "carol@example.com", "--data", data)
	if err := json.Unmarshal([]byte(raw), &export); err != nil || export.Profile.Email != "carol@example.com" {
		t.Errorf("export-user: %v\n%s", err, raw)
	}
	if strings.Contains(raw, "argon2") {
		t.Errorf("export-user shows a password hash:\n%s", raw)
	}
}

// TestAdmin_CLIUsageErrors: unknown commands, missing or extra arguments
// and bad values are usage errors (exit code 2); a missing account is an
// error that says so.
func TestAdmin_CLIUsageErrors(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		name  string
		args  []string
		usage bool
		text  string
	}{
		{"NoCommand", []string{"admin"}, true, "no command"},
		{"Unknown", []string{"admin", "frobnicate"}, true, "unknown command"},
		{"MissingLogin", []string{"admin", "disable", "--data", data}, true, "login is required"},
		{"ExtraArgument", []string{"admin", "users", "extra", "--data", data}, true, "takes no argument"},
		{"FlagOfAnotherCommand", []string{"admin", "grant", "x", "--until", "2030-01-01T00:00:00Z", "--data", data}, false, "flag provided but not defined"},
		{"BadUntil", []string{"admin", "ban", "x", "--until", "tomorrow", "--data", data}, true, "RFC 3339"},
		{"NoSuchUser", []string{"admin", "disable", "nobody", "--data", data}, false, "User does not exist."},
		{"BadStatus", []string{"admin", "resolve", "r1", "--status", "MAYBE", "--data", data}, false, "RESOLVED or DISMISSED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			m := &Main{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: func(string) string { return "" }}
			err := m.Run(context.Background(), tt.args)
			if err == nil {
				t.Fatal("no error")
			}
			if usage := exitCode(err) == 2; usage != tt.usage {
				t.Errorf("exit code %d for %v, want usage error %v", exitCode(err), err, tt.usage)
			}
			if !strings.Contains(err.Error()+stderr.String(), tt.text) && !errors.Is(err, flag.ErrHelp) {
				t.Errorf("error %q (stderr %q) lacks %q", err, stderr.String(), tt.text)
			}
		})
	}
}

// TestAdmin_APIWalkthrough: an administrator over GraphQL works the
// reports queue (a member's report of a message, with the message as it
// is now), inspects, archives and deletes a conversation, resets a
// password, and deletes a user with their messages.
func TestAdmin_APIWalkthrough(t *testing.T) {
	a := runMain(t)
	root, ann, bo := a.signUp(t, "root"), a.signUp(t, "ann"), a.signUp(t, "bo")
	runCLI(t, "admin", "grant", root.email, "--data", a.data)
	cid := a.mustGQL(t, ann.idToken, createConv, map[string]any{"p": []string{bo.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	mid := a.mustGQL(t, bo.idToken, sendMsg, map[string]any{"c": cid, "t": "buy cheap watches"})["sendMessage"].(map[string]any)["messageId"].(string)
	a.mustGQL(t, ann.idToken, `mutation($c: ID!, $m: ID!) { reportMessage(conversationId: $c, messageId: $m, reason: "spam") }`, map[string]any{"c": cid, "m": mid})

	reports := a.mustGQL(t, root.idToken, `{ adminReports(status: OPEN) { items { reportId reporterId userId message { content } } } }`, nil)["adminReports"].(map[string]any)["items"].([]any)
	if len(reports) != 1 {
		t.Fatalf("open reports = %v, want ann's", reports)
	}
	r := reports[0].(map[string]any)
	if r["reporterId"] != ann.userID || r["userId"] != bo.userID || r["message"].(map[string]any)["content"] != "buy cheap watches" {
		t.Errorf("report = %v", r)
	}
	resolved := a.mustGQL(t, root.idToken, `mutation($r: ID!) { adminResolveReport(reportId: $r, status: RESOLVED, resolution: "user removed") { status resolvedBy } }`, map[string]any{"r": r["reportId"]})["adminResolveReport"].(map[string]any)
	if resolved["status"] != "RESOLVED" || resolved["resolvedBy"] != root.userID {
		t.Errorf("resolved = %v", resolved)
	}

	conv := a.mustGQL(t, root.idToken, `query($c: ID!) { adminConversation(conversationId: $c) { conversationId participants } }`, map[string]any{"c": cid})["adminConversation"].(map[string]any)
	if len(conv["participants"].([]any)) != 2 {
		t.Errorf("adminConversation (root is no member) = %v", conv)
	}
	a.mustGQL(t, root.idToken, `mutation($c: ID!) { adminArchiveConversation(conversationId: $c, archived: true) { conversationId } }`, map[string]any{"c": cid})
	if status, body := a.gql(t, ann.idToken, sendMsg, map[string]any{"c": cid, "t": "hello?"}); status != http.StatusOK || errCode(body) != "FORBIDDEN" {
		t.Errorf("send to an archived conversation: %d %v, want FORBIDDEN", status, body)
	}

	pw := a.mustGQL(t, root.idToken, `mutation($u: ID!) { adminResetPassword(userId: $u) }`, map[string]any{"u": ann.userID})["adminResetPassword"].(string)
	if status, body := a.postJSON(t, "/auth/login", map[string]string{"email": ann.email, "password": pw}, nil); status == http.StatusOK {
		t.Errorf("login with the temporary password gave tokens: %v; want a new password required first", body)
	}

	a.mustGQL(t, root.idToken, `mutation($u: ID!) { adminDeleteUser(userId: $u, deleteMessages: true, reason: "spam") }`, map[string]any{"u": bo.userID})
	if u := a.mustGQL(t, root.idToken, `query($u: ID!) { adminUser(userId: $u) { email } }`, map[string]any{"u": bo.userID})["adminUser"]; u != nil {
		t.Errorf("deleted user = %v, want null", u)
	}
	a.mustGQL(t, root.idToken, `mutation($c: ID!) { adminDeleteConversation(conversationId: $c, reason: "spam") }`, map[string]any{"c": cid})
	if c := a.mustGQL(t, root.idToken, `query($c: ID!) { adminConversation(conversationId: $c) { conversationId } }`, map[string]any{"c": cid})["adminConversation"]; c != nil {
		t.Errorf("deleted conversation = %v, want null", c)
	}
	log := a.mustGQL(t, root.idToken, `{ adminAuditLog(limit: 10) { items { action actorId } } }`, nil)["adminAuditLog"].(map[string]any)["items"].([]any)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	want := "CONVERSATION_DELETED USER_DELETED PASSWORD_RESET CONVERSATION_ARCHIVED REPORT_RESOLVED ADMIN_GRANTED"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("audit log = %s, want %s", got, want)
	}
}
