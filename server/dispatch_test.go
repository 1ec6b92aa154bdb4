package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkDispatch is the cost of routing a request to a workspace
// (/w/<id>/graphql, prefix stripped) next to serving the same handler at
// the root: what a workspace adds to every request before its own stack.
func BenchmarkDispatch(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graphql" {
			b.Fatalf("path %q", r.URL.Path)
		}
	})
	s := &Server{cfg: Config{Workspaces: map[string]*Server{"acme": {handler: ok}, "globex": {handler: ok}}}}
	h := s.dispatch(ok)
	for _, bc := range []struct{ name, path string }{{"Root", "/graphql"}, {"Workspace", "/w/acme/graphql"}} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodPost, bc.path, nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}

// TestDispatch: /w/<id>/… reaches the workspace with the prefix stripped;
// anything else the default; unknown workspaces and a bare /w/<id> that is
// not a GET are 404.
func TestDispatch(t *testing.T) {
	var got string
	handler := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = name + " " + r.URL.Path })
	}
	s := &Server{cfg: Config{Workspaces: map[string]*Server{"acme": {handler: handler("acme")}}}}
	h := s.dispatch(handler("default"))
	for _, tt := range []struct{ method, path, want string }{
		{"POST", "/graphql", "default /graphql"},
		{"POST", "/w/acme/graphql", "acme /graphql"},
		{"GET", "/w/acme/", "acme /"},
		{"GET", "/wacme/graphql", "default /wacme/graphql"},
		{"GET", "/w/acme", "301"},
		{"POST", "/w/acme", "404"},
		{"POST", "/w/globex/graphql", "404"},
		{"GET", "/w/", "404"},
		{"GET", "/w/ACME/", "404"},
	} {
		got = ""
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
		if got == "" {
			got = http.StatusText(w.Code)
			if w.Code == 301 || w.Code == 404 {
				got = map[int]string{301: "301", 404: "404"}[w.Code]
			}
		}
		if got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}
