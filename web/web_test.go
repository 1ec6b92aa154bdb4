package web

import (
	"io/fs"
	"testing"
)

func TestAssets(t *testing.T) {
	a := Assets()
	_, err := fs.Stat(a, "index.html")
	if Built() != (err == nil) {
		t.Fatalf("Built() = %v but index.html stat err = %v", Built(), err)
	}
	if _, err := fs.Stat(a, ".gitkeep"); err != nil {
		t.Fatalf("Assets() is not rooted at dist/: %v", err)
	}
}
