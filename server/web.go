package server

import (
	"bytes"
	"html"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/confab-chat/confab/web"
)

// webHandler serves the embedded web client at /. Paths that are not a
// file get index.html (the client routes itself); a workspace's names its
// base path, /w/<id>/ (withBase). When the binary was
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
	var page []byte // index.html for a workspace, its <base href> set; nil at the root
	if s.cfg.Workspace != "" {
		index, err := fs.ReadFile(assets, "index.html")
		if err != nil {
			panic("server: web client built without index.html: " + err.Error()) // web.Built said it is there
		}
		page = withBase(index, WorkspacePathPrefix+s.cfg.Workspace+"/")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		if _, err := fs.Stat(assets, name); err != nil {
			name = "index.html"
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
		if page != nil && name == "index.html" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(page))
			return
		}
		files.ServeHTTP(w, r)
	})
}

// indexBase is index.html's <base href> as built (web/index.html): the
// root. The page's asset URLs are relative to it (vite base './'), and the
// client takes its base path from the address (web/src/base.ts).
const indexBase = `<base href="/" />`

// withBase returns index.html with its <base href> set to base, the path
// a workspace's client is served under ("/w/<id>/"), so that its assets
// load from there whatever the route (/w/<id>/c/<conversation>).
func withBase(index []byte, base string) []byte {
	return bytes.Replace(index, []byte(indexBase), []byte(`<base href="`+html.EscapeString(base)+`" />`), 1)
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>confab</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>confab is running</h1>
<p>The API is up (<code>POST /graphql</code>, <code>/auth/*</code>), but this binary was built without the web client.</p>
<p>Build it and start again: <code>make run</code> (or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then <code>go run ./cmd/confab serve</code>).</p>
</body></html>
`
