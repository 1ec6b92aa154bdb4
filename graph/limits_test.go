package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/graph"
)

// fragmentBomb returns a document of levels nested fragments, each
// spreading the one below twice: 2^levels spreads of one field, in about
// 60 bytes a level.
func fragmentBomb(levels int) string {
	var b strings.Builder
	b.WriteString("query Q { me { ...F" + fmt.Sprint(levels) + " } }\n")
	b.WriteString("fragment F0 on User { userId }\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "fragment F%d on User { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	return b.String()
}

// postGraphQL runs one request against an httptest server wrapping the
// executor (identity set as the server package's requireToken does) and
// returns the decoded errors.
func postGraphQL(t testing.TB, h http.Handler, query string) []gqlError {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req = req.WithContext(confab.WithIdentity(req.Context(), confab.Identity{UserID: "u1"}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out struct{ Errors []gqlError }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
	return out.Errors
}

type gqlError struct {
	Message    string
	Extensions map[string]any
}

func newExecutor(t testing.TB, limits graph.Limits) http.Handler {
	srv := graph.NewServer(nil, limits, nil)
	srv.AddTransport(transport.POST{})
	return srv
}

// TestFragmentBomb_RefusedFast: 2^23 spreads in 1.3 KB cost seconds of CPU
// in complexity counting; the expanded-size cap refuses the document in
// validation, in milliseconds.
func TestFragmentBomb_RefusedFast(t *testing.T) {
	h := newExecutor(t, graph.Limits{})
	q := fragmentBomb(23)
	t.Logf("bomb: %d bytes", len(q))
	start := time.Now()
	errs := postGraphQL(t, h, q)
	took := time.Since(start)
	if len(errs) != 1 || errs[0].Extensions["code"] != string(confab.CodeInvalid) {
		t.Fatalf("errors = %+v, want one %s", errs, confab.CodeInvalid)
	}
	if !strings.Contains(errs[0].Message, "fields") {
		t.Errorf("message %q does not say what was too large", errs[0].Message)
	}
	if took > 500*time.Millisecond { // < 10 ms measured; generous for -race on a shared host
		t.Errorf("refusing the bomb took %v", took)
	}
}

// BenchmarkFragmentBomb measures refusing the 2^23-spread document,
// parsing and validation included: each iteration's document differs by
// a comment, so the query cache never answers (the figure for
// BENCHMARKS.md: under 10 ms).
func BenchmarkFragmentBomb(b *testing.B) {
	h := newExecutor(b, graph.Limits{})
	q := fragmentBomb(23)
	i := 0
	for b.Loop() {
		i++
		if errs := postGraphQL(b, h, fmt.Sprintf("%s# %d\n", q, i)); len(errs) != 1 {
			b.Fatal(errs)
		}
	}
}

// TestSearchAliases_Capped: aliases of searchMessages each run a search;
// more than MaxSearches in one operation is refused before any runs.
func TestSearchAliases_Capped(t *testing.T) {
	h := newExecutor(t, graph.Limits{MaxSearches: 3})
	var b strings.Builder
	b.WriteString("{")
	for i := range 4 {
		fmt.Fprintf(&b, ` s%d: searchMessages(conversationId: "c", searchTerm: "a", limit: 1) { seq }`, i)
	}
	b.WriteString(" }")
	errs := postGraphQL(t, h, b.String())
	if len(errs) != 1 || errs[0].Extensions["code"] != string(confab.CodeInvalid) || !strings.Contains(errs[0].Message, "searches more than 3") {
		t.Fatalf("errors = %+v, want one %s about searches", errs, confab.CodeInvalid)
	}
}

// TestSearchComplexity: a search weighs SearchComplexity plus its
// children per result it may return, so the complexity limit bounds how
// many a client can ask for.
func TestSearchComplexity(t *testing.T) {
	h := newExecutor(t, graph.Limits{MaxComplexity: 100})
	// 50 + 20 × 3 = 110 > 100, though only four fields are named.
	errs := postGraphQL(t, h, `{ searchMessages(conversationId: "c", searchTerm: "a") { seq content messageId } }`)
	if len(errs) != 1 || errs[0].Extensions["code"] != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Fatalf("errors = %+v, want COMPLEXITY_LIMIT_EXCEEDED", errs)
	}
	// Searching every conversation weighs the same per result: 50 + 20 × 4.
	errs = postGraphQL(t, h, `{ searchAllMessages(searchTerm: "a") { items { message { seq content } conversation { name } } } }`)
	if len(errs) != 1 || errs[0].Extensions["code"] != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Fatalf("searchAllMessages: errors = %+v, want COMPLEXITY_LIMIT_EXCEEDED", errs)
	}
}

// TestSearchAllAliases_Capped: searchAllMessages counts as a search
// (ExpensiveFields), with searchMessages, toward MaxSearches.
func TestSearchAllAliases_Capped(t *testing.T) {
	h := newExecutor(t, graph.Limits{MaxSearches: 3})
	q := `{ a: searchMessages(conversationId: "c", searchTerm: "a", limit: 1) { seq }
		b: searchAllMessages(searchTerm: "a", limit: 1) { nextToken }
		c: searchAllMessages(searchTerm: "b", limit: 1) { nextToken }
		d: searchAllMessages(searchTerm: "c", limit: 1) { nextToken } }`
	errs := postGraphQL(t, h, q)
	if len(errs) != 1 || errs[0].Extensions["code"] != string(confab.CodeInvalid) || !strings.Contains(errs[0].Message, "searches more than 3") {
		t.Fatalf("errors = %+v, want one %s about searches", errs, confab.CodeInvalid)
	}
}

// TestIntrospectionOff: __schema and __type are refused as bad input with
// a message, nothing logged at ERROR; validation errors suggest no field
// names.
func TestIntrospectionOff(t *testing.T) {
	var logs bytes.Buffer
	srv := graph.NewServer(nil, graph.Limits{}, slog.New(slog.NewJSONHandler(&logs, nil)))
	srv.AddTransport(transport.POST{})
	for _, q := range []string{`{ __schema { types { name } } }`, `{ __type(name: "User") { name } }`, `query { ...F } fragment F on Query { __schema { queryType { name } } }`} {
		errs := postGraphQL(t, srv, q)
		if len(errs) != 1 || errs[0].Extensions["code"] != string(confab.CodeInvalid) || !strings.Contains(errs[0].Message, "Introspection is turned off") {
			t.Errorf("%s: errors = %+v, want one %s", q, errs, confab.CodeInvalid)
		}
	}
	errs := postGraphQL(t, srv, `{ me { usrname } }`)
	if len(errs) != 1 || strings.Contains(errs[0].Message, "Did you mean") {
		t.Errorf("errors = %+v, want one without suggestions", errs)
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("logged at ERROR:\n%s", logs.String())
	}
	// __typename is not introspection.
	if errs := postGraphQL(t, srv, `{ __typename }`); len(errs) != 0 {
		t.Errorf("__typename: %+v", errs)
	}
}

// TestIntrospectionOn_Suggests: with introspection on, the schema is
// public and suggestions help.
func TestIntrospectionOn_Suggests(t *testing.T) {
	h := newExecutor(t, graph.Limits{Introspection: true})
	errs := postGraphQL(t, h, `{ me { usrname } }`)
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "Did you mean") {
		t.Errorf("errors = %+v, want a suggestion", errs)
	}
	if errs := postGraphQL(t, h, `{ __schema { queryType { name } } }`); len(errs) != 0 {
		t.Errorf("__schema: %+v", errs)
	}
}
