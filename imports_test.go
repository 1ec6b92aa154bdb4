package confab_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/confab-chat/confab"

// importRule bans, for every package the pattern pkg covers, the imports the
// patterns in bans cover (see applies). Patterns are relative to the module.
type importRule struct {
	pkg    string
	bans   []string
	allow  []string // exceptions to bans, as "importer -> imported"
	stdlib bool     // only the standard library and the module itself
}

// importRules is the import direction of STYLE.md §2.1: the domain imports
// only the standard library; adapters never import the service, the edges
// or one another (an adapter is one dependency; NATS reusing the in-process
// hub is the one exception); graph and server never name a concrete store or
// broker; only cmd/confab chooses implementations; the contract suites
// (storetest, brokertest) are imported by tests only; internal packages are
// leaves that any layer may use, so they import none of the layers.
var importRules = []importRule{
	{pkg: "", stdlib: true},
	{pkg: "chat", bans: []string{"store/", "broker/", "graph", "server", "web", "auth"}},
	{pkg: "auth", bans: []string{"store/", "broker/", "graph", "server", "web", "chat"}},
	{pkg: "store/", bans: []string{"chat", "auth", "graph", "server", "broker/", "web", "store/"}},
	{pkg: "broker/", bans: []string{"chat", "auth", "graph", "server", "store/", "web", "broker/"},
		allow: []string{"broker/nats -> broker/inproc"}},
	{pkg: "admin", bans: []string{"store/", "broker/", "graph", "server", "web"}},
	{pkg: "graph", bans: []string{"store/", "broker/", "server", "auth", "web"}},
	{pkg: "server", bans: []string{"store/", "broker/"}},
	{pkg: "server/realtime", bans: []string{"auth", "chat", "graph"}},
	{pkg: "server/appsync", bans: []string{"auth", "chat", "graph", "store/", "broker/"}},
	{pkg: "server/gqlws", bans: []string{"auth", "chat", "graph", "store/", "broker/"}},
	{pkg: "blob/", bans: []string{"chat", "auth", "graph", "server", "store/", "broker/", "web", "blob/"}},
	{pkg: "notify", bans: []string{"chat", "auth", "graph", "server", "store/", "broker/", "web"}},
	{pkg: "internal/", bans: []string{"chat", "auth", "graph", "server", "store/", "broker/", "web", "cmd"}},
	{pkg: "/", bans: []string{"store/storetest", "broker/brokertest", "blob/blobtest"}},
}

// goPackage is the part of `go list -json` the rules read. Imports are
// those of the package's non-test files only, so a _test.go file may import
// a contract suite or a concrete adapter.
type goPackage struct {
	ImportPath string
	Imports    []string
}

// TestImports_Downward checks the module's packages against importRules.
func TestImports_Downward(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; the rules would check nothing", len(pkgs))
	}
	for _, v := range importViolations(pkgs) {
		t.Error(v)
	}
}

// TestImports_RulesCanFail feeds importViolations an import of each kind
// the rules forbid, so that a rule that silently stops applying fails here.
func TestImports_RulesCanFail(t *testing.T) {
	tests := []struct {
		name, pkg string
		imp       string // an import path
		bad       bool
	}{
		{"RootImportsModule", "", "github.com/google/uuid", true},
		{"RootImportsStdlib", "", "context", false},
		{"ChatImportsStore", "chat", path("store/sqlite"), true},
		{"StoreImportsStore", "store/postgres", path("store/sqlite"), true},
		{"StoreImportsInternal", "store/sqlite", path("internal/sqlmigrate"), false},
		{"MeteredImportsStore", "store/metered", path("store/sqlite"), true},
		{"BrokerImportsBroker", "broker/inproc", path("broker/nats"), true},
		{"NATSImportsInproc", "broker/nats", path("broker/inproc"), false},
		{"ProductionImportsStoretest", "cmd/confab", path("store/storetest"), true},
		{"ProductionImportsBrokertest", "server", path("broker/brokertest"), true},
		{"StoreImportsStoretest", "store/sqlite", path("store/storetest"), true},
		{"GraphImportsChat", "graph", path("chat"), false},
		{"ServerImportsStore", "server/appsync", path("store/sqlite"), true},
		{"CmdImportsStore", "cmd/confab", path("store/sqlite"), false},
		{"BlobImportsBlob", "blob/s3", path("blob/disk"), true},
		{"ProductionImportsBlobtest", "cmd/confab", path("blob/blobtest"), true},
		{"InternalImportsChat", "internal/errortype", path("chat"), true},
		{"InternalImportsRoot", "internal/errortype", module, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := goPackage{ImportPath: path(tt.pkg), Imports: []string{tt.imp}}
			got := importViolations([]goPackage{p})
			if bad := len(got) > 0; bad != tt.bad {
				t.Errorf("%s importing %s: violations %q, want forbidden = %v", p.ImportPath, tt.imp, got, tt.bad)
			}
		})
	}
}

// path is the import path of the package at rel in the module.
func path(rel string) string {
	if rel == "" {
		return module
	}
	return module + "/" + rel
}

// importViolations returns one line for each import of pkgs a rule forbids.
func importViolations(pkgs []goPackage) []string {
	var out []string
	for _, p := range pkgs {
		rel, ok := relPath(p.ImportPath)
		if !ok {
			continue
		}
		for _, rule := range importRules {
			if !applies(rule.pkg, rel) {
				continue
			}
			for _, imp := range p.Imports {
				irel, inModule := relPath(imp)
				if rule.stdlib && !inModule && strings.Contains(strings.Split(imp, "/")[0], ".") {
					out = append(out, p.ImportPath+" imports "+imp+": the domain imports only the standard library")
				}
				if !inModule || irel == rel || slices.Contains(rule.allow, rel+" -> "+irel) {
					continue
				}
				for _, ban := range rule.bans {
					if applies(ban, irel) {
						out = append(out, p.ImportPath+" imports "+imp+": against the import direction (STYLE.md §2.1)")
					}
				}
			}
		}
	}
	return out
}

// relPath returns the import path relative to the module ("" for the root)
// and whether it is in the module at all.
func relPath(imp string) (string, bool) {
	if imp == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(imp, module+"/")
	return rel, ok
}

// applies reports whether the rule pattern covers the relative path rel:
// "/" covers every package of the module, "x/" every package under x, "x"
// covers x and its subpackages, "" the root only.
func applies(pattern, rel string) bool {
	switch {
	case pattern == "":
		return rel == ""
	case pattern == "/":
		return true
	case strings.HasSuffix(pattern, "/"):
		return strings.HasPrefix(rel, pattern)
	}
	return rel == pattern || strings.HasPrefix(rel, pattern+"/")
}
