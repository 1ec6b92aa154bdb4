package confab_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/confab-chat/confab"

// TestImports_Downward enforces the import direction of STYLE.md §2.1:
// the domain imports only the standard library; adapters never import the
// service, the edges or each other; graph and server never name a concrete
// store or broker; only cmd/confab chooses implementations.
func TestImports_Downward(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Imports    []string
		Standard   bool
	}
	forbidden := []struct {
		pkg   string // import path relative to the module, "" = root
		bans  []string
		onlyS bool // may import only the standard library and the module's root/internal
	}{
		{pkg: "", onlyS: true},
		{pkg: "chat", bans: []string{"store/", "broker/", "graph", "server", "web", "auth"}},
		{pkg: "auth", bans: []string{"store/", "broker/", "graph", "server", "web", "chat"}},
		{pkg: "store/", bans: []string{"chat", "auth", "graph", "server", "broker/", "web"}},
		{pkg: "broker/", bans: []string{"chat", "auth", "graph", "server", "store/", "web"}},
		{pkg: "graph", bans: []string{"store/", "broker/", "server", "auth", "web"}},
		{pkg: "server", bans: []string{"store/", "broker/"}},
		{pkg: "server/realtime", bans: []string{"auth", "chat", "graph"}},
		{pkg: "server/appsync", bans: []string{"auth", "chat", "graph", "store/", "broker/"}},
		{pkg: "server/gqlws", bans: []string{"auth", "chat", "graph", "store/", "broker/"}},
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, rule := range forbidden {
			if !applies(rule.pkg, rel) {
				continue
			}
			for _, imp := range p.Imports {
				if rule.onlyS && strings.Contains(strings.Split(imp, "/")[0], ".") {
					t.Errorf("%s imports %s: the domain imports only the standard library", p.ImportPath, imp)
				}
				if !strings.HasPrefix(imp, module+"/") {
					continue
				}
				irel := strings.TrimPrefix(imp, module+"/")
				if rule.pkg == "broker/" && rel == "broker/nats" && irel == "broker/inproc" {
					continue // the one allowed exception: NATS reuses the in-process hub
				}
				for _, ban := range rule.bans {
					if applies(ban, irel) && !strings.HasSuffix(irel, "test") {
						t.Errorf("%s imports %s: against the import direction (STYLE.md §2.1)", p.ImportPath, imp)
					}
				}
			}
		}
	}
}

// applies reports whether the rule pattern covers the relative path rel:
// "x/" covers every package under x, "x" covers x and its subpackages.
func applies(pattern, rel string) bool {
	if pattern == "" {
		return rel == ""
	}
	if strings.HasSuffix(pattern, "/") {
		return strings.HasPrefix(rel, pattern)
	}
	return rel == pattern || strings.HasPrefix(rel, pattern+"/")
}
