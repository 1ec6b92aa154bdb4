package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/dynamodb"
)

// readWorkspaces reads the workspaces file (--workspaces): a JSON array of
// confab.Workspace. No file (path ""): no workspace but the default. An
// unknown field, a bad or reserved id, a duplicate, an unknown sign-up
// policy or a domain policy without domains is a usage error naming the
// entry.
func readWorkspaces(path string) ([]confab.Workspace, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--workspaces: %v", err)}
	}
	ws, err := parseWorkspaces(data)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--workspaces %s: %v", path, err)}
	}
	return ws, nil
}

func parseWorkspaces(data []byte) ([]confab.Workspace, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ws []confab.Workspace
	if err := dec.Decode(&ws); err != nil {
		return nil, fmt.Errorf("want a JSON array of workspaces ({\"id\", \"name\", \"signup\", \"domains\"}): %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("want one JSON array: there is more after it")
	}
	seen := map[string]bool{}
	for i, w := range ws {
		if err := confab.ValidWorkspaceID(w.ID); err != nil {
			return nil, fmt.Errorf("entry %d: %v", i+1, err)
		}
		if seen[w.ID] {
			return nil, fmt.Errorf("entry %d: workspace %q is listed twice", i+1, w.ID)
		}
		seen[w.ID] = true
		if !w.Signup.Valid() {
			return nil, fmt.Errorf("workspace %q: signup %q: want open, invitation or domain", w.ID, w.Signup)
		}
		if w.Signup == "" {
			ws[i].Signup = confab.SignupOpen
		}
		if w.Signup == confab.SignupDomain && len(w.Domains) == 0 {
			return nil, fmt.Errorf("workspace %q: signup domain needs domains", w.ID)
		}
		if w.Signup != confab.SignupDomain && len(w.Domains) > 0 {
			return nil, fmt.Errorf("workspace %q: domains apply to signup domain only", w.ID)
		}
		for _, d := range w.Domains {
			if d == "" || strings.ContainsAny(d, "@/ ") {
				return nil, fmt.Errorf("workspace %q: domain %q: want a bare domain such as example.com", w.ID, d)
			}
		}
	}
	return ws, nil
}

// The namespaces of workspace id in each engine; the default workspace
// ("") keeps today's file, schema and tables.

// workspaceDir is the directory of workspace id's files (SQLite database,
// disk blobs): <data>/workspaces/<id>.
func workspaceDir(dataDir, id string) string {
	if id == "" {
		return dataDir
	}
	return filepath.Join(dataDir, "workspaces", id)
}

// workspaceSchema is workspace id's PostgreSQL schema: ws_<id>, its
// hyphens made underscores (ids have no underscore, so no two collide).
func workspaceSchema(id string) string { return "ws_" + strings.ReplaceAll(id, "-", "_") }

// workspaceDynamo is workspace id's DynamoDB configuration: its tables are
// named <--dynamodb-table-prefix>ws-<id>-<table>.
func workspaceDynamo(dyn dynamodb.Config, id string) dynamodb.Config {
	if id != "" {
		dyn.TablePrefix += "ws-" + id + "-"
	}
	return dyn
}

// workspaceBlobPrefix is workspace id's key prefix in the S3 bucket.
func workspaceBlobPrefix(id string) string {
	if id == "" {
		return ""
	}
	return "ws/" + id + "/"
}

// workspacePath is the URL path a workspace is served under: "" for the
// default, /w/<id> for the others.
func workspacePath(id string) string {
	if id == "" {
		return ""
	}
	return "/w/" + id
}

// workspaceSetting is the --workspace flag of the commands that open a
// store: the namespace they act on.
func workspaceSetting(p *string) setting {
	return setting{"workspace", "", "the workspace to act on, by id (as in the --workspaces file of confab serve); default: the default workspace", str(p)}
}

// checkWorkspaceFlag validates --workspace.
func checkWorkspaceFlag(id string) error {
	if id == "" {
		return nil
	}
	if err := confab.ValidWorkspaceID(id); err != nil {
		return usageError{"--workspace: " + err.Error()}
	}
	return nil
}

// workspacePoolID is workspace id's Cognito user pool id: the default's
// region part, then _<id> (the default workspace keeps poolID).
func workspacePoolID(poolID, id string) string {
	if id == "" {
		return poolID
	}
	region, _, _ := strings.Cut(poolID, "_")
	return region + "_" + id
}
