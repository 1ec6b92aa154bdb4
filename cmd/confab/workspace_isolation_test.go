package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab/graph/generated"
	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/vektah/gqlparser/v2/ast"
)

// workspaceFixture is what one workspace holds for the isolation test:
// an administrator who owns a conversation with another member, a
// message, an upload and a report, by kind of id.
type workspaceFixture struct {
	app          *app
	owner, other *account
	ids          map[string]string // id kind → id
	content      string            // the message's text, unique to the workspace
}

// idKinds maps each ID argument or input field of the schema, by name, to
// the kind of id it takes. A new operation whose ID argument has a name
// not listed here fails TestWorkspace_Isolation until it is added: every
// id the schema takes is tried across workspaces.
var idKinds = map[string]string{
	"conversationId": "conversation", "unmute": "conversation",
	"messageId": "message", "parentMessageId": "message",
	"userId": "user", "userIds": "user", "participants": "user", "mentions": "user",
	"uploadId": "upload", "attachments": "upload",
	"reportId": "report",
}

// writeWorkspaces writes a workspaces file of ids, all open to sign-up.
func writeWorkspaces(t *testing.T, ids ...string) string {
	t.Helper()
	var ws []map[string]string
	for _, id := range ids {
		ws = append(ws, map[string]string{"id": id, "signup": "open"})
	}
	b, _ := json.Marshal(ws)
	path := filepath.Join(t.TempDir(), "workspaces.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// inWorkspace is the app seen at workspace id's base URL.
func (a *app) inWorkspace(id string) *app {
	return &app{url: a.url + "/w/" + id, data: a.data, client: a.client}
}

// newWorkspaceFixture fills workspace id of the server at root, whose
// store the CLI reaches with storeArgs (the data directory is root's).
func newWorkspaceFixture(t *testing.T, root *app, storeArgs []string, id string) *workspaceFixture {
	t.Helper()
	w := &workspaceFixture{app: root.inWorkspace(id), content: "secret of " + id}
	w.owner, w.other = w.app.signUp(t, id+"owner"), w.app.signUp(t, id+"other")
	runCLI(t, append([]string{"admin", "grant", w.owner.email, "--data", root.data, "--workspace", id}, storeArgs...)...)
	conv := w.app.mustGQL(t, w.owner.idToken, createConv, map[string]any{"p": []string{w.other.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	msg := w.app.mustGQL(t, w.owner.idToken, sendMsg, map[string]any{"c": conv, "t": w.content})["sendMessage"].(map[string]any)["messageId"].(string)
	upload := w.app.uploadFile(t, w.owner.idToken, conv, "notes.txt", "text/plain", []byte(w.content))
	w.app.mustGQL(t, w.other.idToken, `mutation($c:ID!,$m:ID!){ reportMessage(conversationId:$c, messageId:$m, reason:"spam") }`, map[string]any{"c": conv, "m": msg})
	reports := w.app.mustGQL(t, w.owner.idToken, `{ adminReports { items { reportId } } }`, nil)["adminReports"].(map[string]any)["items"].([]any)
	if len(reports) != 1 {
		t.Fatalf("workspace %s: %d reports, want 1", id, len(reports))
	}
	w.ids = map[string]string{"conversation": conv, "message": msg, "user": w.other.userID, "upload": upload,
		"report": reports[0].(map[string]any)["reportId"].(string)}
	return w
}

// idOperation is one root field of the schema that takes ids, as an
// operation whose ids are variables.
type idOperation struct {
	root  string // query, mutation or subscription
	field string
	// paths are the ID arguments and input fields, e.g. "input.conversationId".
	paths []string
}

// schemaIDOperations lists every root field with an ID argument (or an ID
// inside an input argument), from gqlgen's parsed schema.
func schemaIDOperations(t *testing.T) (*ast.Schema, []idOperation) {
	s := generated.NewExecutableSchema(generated.Config{}).Schema()
	var ops []idOperation
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			op := idOperation{root: strings.ToLower(root.Name), field: f.Name}
			for _, a := range f.Arguments {
				op.paths = append(op.paths, idPaths(s, a.Name, a.Type, 0)...)
			}
			if len(op.paths) > 0 {
				ops = append(ops, op)
			}
		}
	}
	for _, op := range ops {
		for _, p := range op.paths {
			name := p[strings.LastIndexByte(p, '.')+1:]
			if idKinds[name] == "" {
				t.Fatalf("%s.%s takes the ID %s, whose kind idKinds does not know: add it", op.root, op.field, p)
			}
		}
	}
	return s, ops
}

func idPaths(s *ast.Schema, path string, ty *ast.Type, depth int) []string {
	if ty.Name() == "ID" {
		return []string{path}
	}
	def := s.Types[ty.Name()]
	if def == nil || def.Kind != ast.InputObject || depth > 3 {
		return nil
	}
	var out []string
	for _, f := range def.Fields {
		out = append(out, idPaths(s, path+"."+f.Name, f.Type, depth+1)...)
	}
	return out
}

// build returns the operation's document and variables: every ID path
// from ids(path), every other required argument or input field a valid
// placeholder, the result's selection __typename (or nothing for a
// scalar).
func (op idOperation) build(s *ast.Schema, ids func(path string) string) (string, map[string]any) {
	root := map[string]*ast.Definition{"query": s.Query, "mutation": s.Mutation, "subscription": s.Subscription}[op.root]
	f := root.Fields.ForName(op.field)
	vars := map[string]any{}
	var decls, args []string
	for _, a := range f.Arguments {
		v, ok := placeholder(s, a.Name, a.Type, ids, 0)
		if !ok {
			continue
		}
		vars[a.Name] = v
		decls = append(decls, "$"+a.Name+":"+a.Type.String())
		args = append(args, a.Name+":$"+a.Name)
	}
	sel := ""
	if def := s.Types[f.Type.Name()]; def != nil && (def.Kind == ast.Object || def.Kind == ast.Interface || def.Kind == ast.Union) {
		sel = "{ __typename }"
		if def.Fields.ForName("items") != nil { // a connection: show that it is empty
			sel = "{ __typename items { __typename } }"
		}
	}
	return fmt.Sprintf("%s(%s){ %s(%s) %s }", op.root, strings.Join(decls, ","), op.field, strings.Join(args, ","), sel), vars
}

// placeholder returns a value for an argument or input field at path of
// type ty: ids for IDs, valid placeholders for required others, and
// input objects when required or holding an ID; ok false to leave it out.
func placeholder(s *ast.Schema, path string, ty *ast.Type, ids func(string) string, depth int) (any, bool) {
	if ty.Elem != nil {
		v, ok := placeholder(s, path, ty.Elem, ids, depth)
		if !ok {
			return nil, false
		}
		return []any{v}, true
	}
	if ty.NamedType == "ID" {
		return ids(path), true
	}
	def := s.Types[ty.NamedType]
	if def != nil && def.Kind == ast.InputObject {
		if depth > 3 || (!ty.NonNull && len(idPaths(s, path, ty, depth)) == 0) {
			return nil, false
		}
		obj := map[string]any{}
		for _, fld := range def.Fields {
			if v, ok := placeholder(s, path+"."+fld.Name, fld.Type, ids, depth+1); ok {
				obj[fld.Name] = v
			}
		}
		return obj, true
	}
	if !ty.NonNull {
		return nil, false
	}
	if def != nil && def.Kind == ast.Enum {
		return def.EnumValues[len(def.EnumValues)-1].Name, true // the last: a first is often a state one cannot set (OPEN, OWNER)
	}
	switch ty.NamedType {
	case "Int":
		return 1, true
	case "Float":
		return 1.0, true
	case "Boolean":
		return true, true
	case "AWSDateTime":
		return time.Now().Add(time.Hour).UTC().Format(time.RFC3339), true
	case "AWSEmail":
		return "someone@example.com", true
	}
	switch name := path[strings.LastIndexByte(path, '.')+1:]; name {
	case "contentType":
		return "text/plain", true
	case "fileName":
		return "a.txt", true
	}
	return "isolation", true
}

// acceptedCodes are the answers that keep another workspace's ids out of
// reach: the object does not exist here, or the caller may not name it
// (a user id that is not theirs).
var acceptedCodes = []string{"NOT_FOUND", "FORBIDDEN"}

// TestWorkspace_Isolation: two workspaces on one server (SQLite). With ids
// made in A (conversation, message, upload, user, report), B's
// administrator runs every query, mutation and subscription of the schema
// that takes an id, on both real-time protocols for subscriptions, once
// with every id from A and once per id with only that one from A and the
// others B's own: each is NOT_FOUND (or FORBIDDEN for a user id that is
// not the caller's) and no answer carries anything of A. A's tokens are
// refused at B (401 on POST, both WebSocket protocols), B's at A and at
// the root, the root's at B; A's data is untouched afterwards.
func TestWorkspace_Isolation(t *testing.T) {
	root := runMain(t, "--workspaces", writeWorkspaces(t, "acme", "globex"), "--sends-per-second", "-1")
	testWorkspaceIsolation(t, root, nil, "acme", "globex")
}

// TestWorkspace_IsolationPostgres is TestWorkspace_Isolation on
// PostgreSQL: each workspace a schema ws_<id> of the database (ids of
// their own, so that runs sharing the database do not meet).
func TestWorkspace_IsolationPostgres(t *testing.T) {
	storeArgs := []string{"--store", "postgres", "--postgres", postgresURL(t)}
	ids := []string{randomWorkspaceID(t, storeArgs[3]), randomWorkspaceID(t, storeArgs[3])}
	root := runMain(t, append([]string{"--workspaces", writeWorkspaces(t, ids...), "--sends-per-second", "-1"}, storeArgs...)...)
	testWorkspaceIsolation(t, root, storeArgs, ids[0], ids[1])
}

func testWorkspaceIsolation(t *testing.T, root *app, storeArgs []string, aID, bID string) {
	a, b := newWorkspaceFixture(t, root, storeArgs, aID), newWorkspaceFixture(t, root, storeArgs, bID)
	s, ops := schemaIDOperations(t)
	leaks := append(slices.Collect(func(yield func(string) bool) {
		for _, id := range a.ids {
			yield(id)
		}
	}), a.content, a.owner.email, a.other.email)

	checkAnswer := func(t *testing.T, what string, body any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		for _, l := range leaks {
			if strings.Contains(string(raw), l) {
				t.Errorf("%s: the answer carries %q of workspace A: %s", what, l, raw)
			}
		}
	}

	// nowhere are ids of each kind that exist in no workspace.
	nowhere := map[string]string{}
	for kind := range a.ids {
		nowhere[kind] = uuid.NewString()
	}
	kindOf := func(p string) string { return idKinds[p[strings.LastIndexByte(p, '.')+1:]] }
	// variants are the sets of ID paths given foreign ids: all of them,
	// and each alone (the others B's own) when there are several.
	variants := func(op idOperation) map[string]func(string) bool {
		v := map[string]func(string) bool{"all foreign": func(string) bool { return true }}
		if len(op.paths) > 1 {
			for _, only := range op.paths {
				v["only "+only+" foreign"] = func(p string) bool { return p == only }
			}
		}
		return v
	}
	idsFrom := func(foreign map[string]string, isForeign func(string) bool) func(string) string {
		return func(p string) string {
			if isForeign(p) {
				return foreign[kindOf(p)]
			}
			return b.ids[kindOf(p)]
		}
	}

	ran, notFound := 0, 0
	for _, op := range ops {
		for name, isForeign := range variants(op) {
			query, vars := op.build(s, idsFrom(a.ids, isForeign))
			what := op.root + " " + op.field + " (" + name + ")"
			if op.root != "subscription" {
				// A's ids must be answered exactly as ids that exist
				// nowhere: then nothing of A is reachable from B.
				status, body := b.app.gql(t, b.owner.idToken, query, vars)
				checkAnswer(t, what, body)
				nq, nvars := op.build(s, idsFrom(nowhere, isForeign))
				nstatus, nbody := b.app.gql(t, b.owner.idToken, nq, nvars)
				got, want := fmt.Sprint(status, " ", errCode(body), " ", body["data"]), fmt.Sprint(nstatus, " ", errCode(nbody), " ", nbody["data"])
				if got != want {
					t.Errorf("%s: A's ids answered %s, unknown ids %s", what, got, want)
				}
				ran++
				if errCode(body) == "NOT_FOUND" {
					notFound++
				} else {
					t.Logf("%s: answered as for unknown ids, %s", what, got)
				}
				continue
			}
			// graphql-transport-ws: an error frame for the subscription.
			ws := b.app.dialGQLWS(t, b.owner.idToken)
			ws.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
			m := ws.read()
			if m["type"] != "error" || !containsCode(m["payload"]) {
				t.Errorf("%s over graphql-transport-ws: %v, want an error NOT_FOUND", what, m)
			}
			checkAnswer(t, what, m)
			ws.conn.Close()
			// AppSync: start refused with an error frame.
			as := b.app.dialAppSync(t, b.owner.idToken, false)
			if m := as.read(false); m["type"] != "connection_ack" {
				t.Fatalf("appsync handshake at B: %v", m)
			}
			as.start("1", b.owner.idToken, query, vars)
			m = as.read(false)
			if m["type"] != "error" || !containsCode(m["payload"]) {
				t.Errorf("%s over AppSync: %v, want an error NOT_FOUND", what, m)
			}
			checkAnswer(t, what, m)
			as.conn.Close()
			ran += 2
		}
	}
	t.Logf("%d operations with ids from A run in B (%d root fields take ids): %d NOT_FOUND, the others as for unknown ids", ran, len(ops), notFound)

	// Tokens are the workspace's own.
	defaultUser := root.signUp(t, "rootuser")
	for _, tc := range []struct {
		name  string
		at    *app
		token string
	}{
		{"AcmeTokenAtGlobex", b.app, a.owner.idToken},
		{"AcmeAccessTokenAtGlobex", b.app, a.owner.accessToken},
		{"GlobexTokenAtAcme", a.app, b.owner.idToken},
		{"GlobexTokenAtRoot", root, b.owner.idToken},
		{"RootTokenAtGlobex", b.app, defaultUser.idToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := tc.at.gql(t, tc.token, `{ me { userId } }`, nil); status != http.StatusUnauthorized {
				t.Errorf("POST /graphql: %d %v, want 401", status, body)
			}
			d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
			conn, _, err := d.Dial(strings.Replace(tc.at.url, "http", "ws", 1)+"/graphql", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": tc.token}})
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err = conn.ReadMessage()
			if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != 4403 {
				t.Errorf("graphql-transport-ws: %v, want close 4403", err)
			}
			as := tc.at.dialAppSync(t, tc.token, false)
			if m := as.read(true); m["type"] != "connection_error" {
				t.Errorf("AppSync: %v, want connection_error", m)
			}
		})
	}

	// A is untouched by all of it.
	items := a.app.mustGQL(t, a.owner.idToken, `query($c:ID!){ listMessages(conversationId:$c){ items { content attachments { fileName } } } }`,
		map[string]any{"c": a.ids["conversation"]})["listMessages"].(map[string]any)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["content"] != a.content {
		t.Errorf("A's messages afterwards: %v, want its one message", items)
	}
	if status, body := a.app.postJSON(t, "/auth/login", map[string]string{"email": a.other.email, "password": "Passw0rd!x"}, nil); status != http.StatusOK {
		t.Errorf("A's member signs in afterwards: %d %v", status, body)
	}
	if data := a.app.mustGQL(t, a.owner.idToken, `{ adminReports { items { reportId status } } }`, nil); !strings.Contains(fmt.Sprint(data), a.ids["report"]+" status:OPEN") {
		t.Errorf("A's report afterwards: %v, want it open", data)
	}
}

// containsCode reports whether a WebSocket error payload names one of the
// accepted codes.
func containsCode(payload any) bool {
	s := fmt.Sprint(payload)
	for _, c := range acceptedCodes {
		if strings.Contains(s, c) {
			return true
		}
	}
	return false
}

// randomWorkspaceID returns a workspace id of its own, whose PostgreSQL
// schema (made by the server) is dropped at the end.
func randomWorkspaceID(t *testing.T, pgURL string) string {
	t.Helper()
	id := "t" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	t.Cleanup(func() {
		ctx := context.Background()
		if c, err := pgx.Connect(ctx, pgURL); err == nil {
			c.Exec(ctx, "DROP SCHEMA IF EXISTS "+workspaceSchema(id)+" CASCADE")
			c.Close(ctx)
		}
	})
	return id
}
