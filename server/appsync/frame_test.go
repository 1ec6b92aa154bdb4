package appsync

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/go-cmp/cmp"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenFrame is one entry of testdata/frames.json: the frame as rendered
// (golden, rewritten by -update) and, where protocols.md §1.4/§1.5 quotes
// real AppSync, that example (hand-copied, never rewritten), which the
// rendering must equal exactly.
type goldenFrame struct {
	Name  string          `json:"name"`
	Frame json.RawMessage `json:"frame"`
	Doc   json.RawMessage `json:"doc,omitempty"`
}

func TestProtocol_Frames(t *testing.T) {
	p := protocol{}
	rendered := map[string][]byte{
		"connection_ack":                   connectionAck(300000),
		"ka":                               p.KeepAlive(),
		"start_ack":                        frame("71375086-5c6e-4d0f-9d7b-1b2f1f0e7e43", "start_ack", nil),
		"data":                             p.Next("sub-1", &graphql.Response{Data: json.RawMessage(`{"onMessageSent":{"messageId":"m1","content":"hi","createdAt":"2026-11-25T05:18:48.000Z","__typename":"Message"}}`)}),
		"data_with_errors":                 p.Next("sub-1", &graphql.Response{Data: json.RawMessage(`{"onMessageSent":null}`), Errors: gqlerror.List{{Message: "Internal error.", Path: ast.Path{ast.PathName("onMessageSent"), ast.PathName("author")}, Extensions: map[string]any{"code": "INTERNAL_SERVER_ERROR", "errorType": "InternalFailure"}}}}),
		"data_null":                        p.Next("sub-1", &graphql.Response{}),
		"complete":                         p.Complete("sub-1"),
		"error_duplicated":                 p.Error("sub-1", errList(errDuplicate, "Duplicated operation with id sub-1")),
		"error_max_subscriptions":          p.Error("sub-1", errList(errMaxSubs, "At most 100 subscriptions may be active on one connection.")),
		"error_presented":                  p.Error("sub-1", gqlerror.List{{Message: "Conversation not found.", Path: ast.Path{ast.PathName("onMessageSent")}, Extensions: map[string]any{"code": "NOT_FOUND", "errorType": "NotFound"}}}),
		"error_validation_unpresented":     p.Error("sub-1", gqlerror.List{{Message: "Unexpected <EOF>", Locations: []gqlerror.Location{{Line: 1, Column: 13}}, Extensions: map[string]any{"code": "GRAPHQL_PARSE_FAILED"}}}),
		"error_untyped":                    p.Error("sub-1", gqlerror.List{{Message: "The subscription could not be started."}}),
		"error_empty":                      p.Error("sub-1", nil),
		"connection_error_unauthorized":    connectionError(errUnauthorized, unauthorizedMessage, 401),
		"connection_error_bad_request":     connectionError(errBadRequest, "The header parameter could not be decoded.", 400),
		"connection_error_init_timeout":    connectionError(errInitTimeout, "connection_init was not received in time.", 408),
		"error_id_needs_escaping":          p.Complete("a\"b\\c\u2028"),
		"data_marshal_fails_still_json":    frame("x", "data", map[string]any{"bad": func() {}}),
		"error_unsupported_operation_type": p.Error("q", gqlerror.List{{Message: "Queries and mutations are not supported on the real-time endpoint; use POST /graphql.", Extensions: map[string]any{"errorType": "UnsupportedOperation", "code": "BAD_USER_INPUT"}}}),
	}

	path := filepath.Join("testdata", "frames.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var golden []goldenFrame
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	seen := map[string]bool{}
	for i, g := range golden {
		seen[g.Name] = true
		t.Run(g.Name, func(t *testing.T) {
			got, ok := rendered[g.Name]
			if !ok {
				t.Fatalf("%s names a frame the test does not render", path)
			}
			if !json.Valid(got) || got[0] != '{' {
				t.Fatalf("frame %s is not one JSON object", got)
			}
			if g.Doc != nil && !jsonEqual(t, got, g.Doc) {
				t.Errorf("frame = %s, want the protocols.md example %s", got, g.Doc)
			}
			if *update {
				golden[i].Frame = json.RawMessage(got)
				return
			}
			if !jsonEqual(t, got, g.Frame) {
				t.Errorf("frame = %s, want golden %s (go test -update rewrites it)", got, g.Frame)
			}
		})
	}
	for name := range rendered {
		if !seen[name] {
			if !*update {
				t.Errorf("frame %s missing from %s (go test -update adds it)", name, path)
				continue
			}
			golden = append(golden, goldenFrame{Name: name, Frame: rendered[name]})
		}
	}
	if *update {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(golden); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConnectionTimeout(t *testing.T) {
	tests := []struct {
		name      string
		keepAlive string
		want      string
	}{
		{"OK/DefaultIsAppSyncs", "30s", "5m0s"},
		{"OK/ShortKeepAlive", "50ms", "5m0s"},
		{"OK/LongKeepAliveThreeIntervals", "2m", "6m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := connectionTimeout(mustDuration(t, tt.keepAlive)).String(); got != tt.want {
				t.Fatalf("connectionTimeout(%s) = %s, want %s", tt.keepAlive, got, tt.want)
			}
		})
	}
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// jsonEqual compares two JSON texts as values.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return cmp.Equal(va, vb)
}
