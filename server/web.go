package server

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/confab-chat/confab/web"
)

// webHandler serves the embedded web client at /. Paths that are not a
// file get index.html (the client routes itself). When the binary was
// built without the client, / explains how to build it.
func (s *Server) webHandler() http.Handler {
	if !web.Built() {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(notBuiltPage))
		})
	}
	assets := web.Assets()
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		if _, err := fs.Stat(assets, name); err != nil {
			r = r.Clone(r.Context())
			r.URL.Path = "/"
		}
		if strings.HasPrefix(name, "assets/") {
			// Vite names assets by content hash: cache them for good.
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'")
		files.ServeHTTP(w, r)
	})
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>confab</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>confab is running</h1>
<p>The API is up (<code>POST /graphql</code>, <code>/auth/*</code>), but this binary was built without the web client.</p>
<p>Build it and start again: <code>make run</code> (or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then <code>go run ./cmd/confab serve</code>).</p>
</body></html>
`
