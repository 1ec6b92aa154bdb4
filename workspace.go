package confab

import (
	"fmt"
	"regexp"
)

// DefaultWorkspace is the reserved id of the default workspace: today's
// single-organisation server at the root paths. Identity.Workspace and
// Workspace.ID leave it empty; no configured workspace may take it.
const DefaultWorkspace = "default"

// Workspace is a tenant: a complete stack (store namespace, broker
// subjects, token issuer, paths under /w/<ID>/) that shares nothing with
// another workspace. The workspaces file of cmd/confab is a JSON array of
// them.
type Workspace struct {
	ID      string       `json:"id"`   // ValidWorkspaceID; "" is the default workspace
	Name    string       `json:"name"` // shown to people; optional
	Signup  SignupPolicy `json:"signup"`
	Domains []string     `json:"domains"` // e-mail domains that may sign up under SignupDomain
}

// SignupPolicy says who may create an account in a workspace by signing
// up (accounts made by an administrator are not subject to it).
type SignupPolicy string

// The sign-up policies. The zero value means SignupOpen.
const (
	SignupOpen       SignupPolicy = "open"       // anyone, as in a single-organisation server
	SignupInvitation SignupPolicy = "invitation" // only with a valid invitation token of the workspace
	SignupDomain     SignupPolicy = "domain"     // only with an e-mail address in one of Workspace.Domains
)

// Valid reports whether p is one of the policies (or empty, meaning open).
func (p SignupPolicy) Valid() bool {
	switch p {
	case "", SignupOpen, SignupInvitation, SignupDomain:
		return true
	}
	return false
}

var workspaceIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)

// ValidWorkspaceID returns nil when id may name a workspace: a lowercase
// letter then up to 30 lowercase letters, digits and hyphens (so it fits a
// path segment, a PostgreSQL schema name, a DynamoDB table prefix and a
// NATS subject token), and not the reserved "default".
func ValidWorkspaceID(id string) error {
	if !workspaceIDPattern.MatchString(id) {
		return fmt.Errorf("workspace id %q: want a lowercase letter then up to 30 lowercase letters, digits or hyphens", id)
	}
	if id == DefaultWorkspace {
		return fmt.Errorf("workspace id %q is reserved for the default workspace", id)
	}
	return nil
}
