// Package web holds the browser client: its TypeScript source (src/), its
// build (npm ci && npm run build → dist/) and the built assets embedded in
// the binary. The server serves Assets at / as a single-page app.
package web

import (
	"embed"
	"io/fs"
)

// dist holds the built client. It always contains .gitkeep, so the embed
// compiles before the first build; index.html appears after `npm run build`.
//
//go:embed all:dist
var dist embed.FS

// Assets returns the built client rooted at dist/ (index.html, assets/…).
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // cannot happen: "dist" is a valid path embedded above
	}
	return sub
}

// Built reports whether the client has been built into dist/, i.e. whether
// dist/index.html exists.
func Built() bool {
	_, err := fs.Stat(dist, "dist/index.html")
	return err == nil
}
