package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confab-chat/confab"
	"github.com/google/go-cmp/cmp"
)

func TestReadWorkspaces(t *testing.T) {
	tests := []struct {
		name, file string
		want       []confab.Workspace
		err        string // a part of the error; "" for none
	}{
		{"OKBriefExample", `[{"id":"acme","name":"Acme","signup":"invitation"}, {"id":"globex","signup":"domain","domains":["globex.com"]}]`,
			[]confab.Workspace{{ID: "acme", Name: "Acme", Signup: confab.SignupInvitation}, {ID: "globex", Signup: confab.SignupDomain, Domains: []string{"globex.com"}}}, ""},
		{"OKSignupDefaultsToOpen", `[{"id":"a-1"}]`, []confab.Workspace{{ID: "a-1", Signup: confab.SignupOpen}}, ""},
		{"OKEmpty", `[]`, []confab.Workspace{}, ""},
		{"ErrUnknownField", `[{"id":"acme","sign_up":"open"}]`, nil, `unknown field "sign_up"`},
		{"ErrBadID", `[{"id":"Acme"}]`, nil, `"Acme"`},
		{"ErrIDTooLong", `[{"id":"a2345678901234567890123456789012"}]`, nil, "entry 1"},
		{"ErrNoID", `[{"name":"Acme"}]`, nil, `workspace id ""`},
		{"ErrReserved", `[{"id":"default"}]`, nil, "reserved"},
		{"ErrDuplicate", `[{"id":"acme"},{"id":"globex"},{"id":"acme"}]`, nil, `entry 3: workspace "acme" is listed twice`},
		{"ErrPolicy", `[{"id":"acme","signup":"closed"}]`, nil, `signup "closed"`},
		{"ErrDomainWithoutDomains", `[{"id":"acme","signup":"domain"}]`, nil, "needs domains"},
		{"ErrDomainsWithoutPolicy", `[{"id":"acme","domains":["acme.com"]}]`, nil, "domain only"},
		{"ErrBadDomain", `[{"id":"acme","signup":"domain","domains":["@acme.com"]}]`, nil, `"@acme.com"`},
		{"ErrNotArray", `{"id":"acme"}`, nil, "JSON array"},
		{"ErrTrailing", `[{"id":"acme"}] []`, nil, "more after it"},
		{"ErrNotJSON", `acme`, nil, "JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "workspaces.json")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readWorkspaces(path)
			if tt.err != "" {
				if _, ok := err.(usageError); !ok || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("readWorkspaces = %v (%T), want a usage error containing %q", err, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("workspaces (-want +got):\n%s", diff)
			}
		})
	}
	if ws, err := readWorkspaces(""); err != nil || ws != nil {
		t.Errorf(`readWorkspaces("") = %v, %v; want none`, ws, err)
	}
	if _, err := readWorkspaces(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file is not an error")
	}
}
