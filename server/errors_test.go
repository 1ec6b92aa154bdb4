package server

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/confab-chat/confab/auth"
	"io"
	"net/http"
	"strings"
	"testing"
)

// postGraphQLRaw posts body to /graphql with token and returns the status
// and the decoded answer.
func postGraphQLRaw(t *testing.T, ts *testServer, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.URL()+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer %q: %v", raw, err)
	}
	return res.StatusCode, out
}

func firstErrorCode(out map[string]any) (code, message string) {
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		return "", ""
	}
	e, _ := errs[0].(map[string]any)
	message, _ = e["message"].(string)
	ext, _ := e["extensions"].(map[string]any)
	code, _ = ext["code"].(string)
	return code, message
}

// TestGraphQLBody_NotARequest: batched arrays and bodies that are not a
// GraphQL request are BAD_USER_INPUT / 400 with a message saying what to
// send, nothing at ERROR, and no part of the body in the logs.
func TestGraphQLBody_NotARequest(t *testing.T) {
	ts := newTestServer(t, Config{}, nil)
	token := signUpAndIn(t, ts)
	for _, tt := range []struct{ body, want string }{
		{`[{"query":"{ me { userId } }","variables":{"x":"s3cret-a"}}]`, "Batched"},
		{` {"query": "{ me { userId } }", "variables": {"x":"s3cret-b"}`, "JSON object"},
		{`{"query": 5, "x":"s3cret-c"}`, "JSON object"},
		{`"s3cret-d"`, "JSON object"},
		{`{"query": "{ me { userId } }", "variables": "s3cret-e"}`, "JSON object"},
	} {
		status, out := postGraphQLRaw(t, ts, token, tt.body)
		code, msg := firstErrorCode(out)
		if status != http.StatusBadRequest || code != "BAD_USER_INPUT" || !strings.Contains(msg, tt.want) {
			t.Errorf("%s: %d %v, want 400 BAD_USER_INPUT saying %q", tt.body, status, out, tt.want)
		}
	}
	logs := ts.logText()
	if strings.Contains(logs, "s3cret") || strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("logs hold a body or an ERROR:\n%s", logs)
	}
}

// TestRefresh_DeletedUser: a deleted account's refresh token is refused
// like any other unusable refresh token (NotAuthorized, the status of
// every refresh refusal), not 404, which would tell a token holder the
// account is gone.
func TestRefresh_DeletedUser(t *testing.T) {
	ts := newTestServer(t, Config{}, nil)
	ctx := context.Background()
	if _, err := ts.auth.SignUp(ctx, auth.SignUpInput{Email: "gone@example.com", Password: "Passw0rd-1"}, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	tok, err := ts.auth.Login(ctx, "gone@example.com", "Passw0rd-1", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.auth.DeleteAccount(ctx, "gone@example.com"); err != nil {
		t.Fatal(err)
	}
	deleted := refresh(t, ts, tok.RefreshToken)
	unknown := refresh(t, ts, "made-up")
	if deleted.status != unknown.status || deleted.code != "NotAuthorized" || deleted.status/100 != 4 || deleted.status == http.StatusNotFound {
		t.Errorf("deleted user's refresh = %d %s; unknown token's = %d %s; want the same NotAuthorized answer", deleted.status, deleted.code, unknown.status, unknown.code)
	}
	if strings.Contains(ts.logText(), `"level":"ERROR"`) {
		t.Errorf("logged at ERROR:\n%s", ts.logText())
	}
}

type refreshAnswer struct {
	status int
	code   string
}

func refresh(t *testing.T, ts *testServer, token string) refreshAnswer {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"refreshToken": token})
	res, err := http.Post(ts.URL()+"/auth/refresh", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out errorBody
	json.NewDecoder(res.Body).Decode(&out)
	return refreshAnswer{res.StatusCode, out.Error.Code}
}
