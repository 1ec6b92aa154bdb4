package main

import (
	"fmt"

	"github.com/confab-chat/confab"
)

// invitationKeyPurpose derives the key of invitation tokens from the
// signing key file (deriveKey): every node and the CLI's workspace invite
// get the same key from the same file, and a new signing key voids every
// invitation still out.
const invitationKeyPurpose = "confab workspace invitations"

// signupConfig is the sign-up policy of the default workspace (the other
// workspaces have theirs in the --workspaces file).
type signupConfig struct {
	Policy  string
	Domains string
}

// signupSettings are confab serve's sign-up settings.
func signupSettings(c *signupConfig) []setting {
	return []setting{
		{"signup-policy", "open", "who may sign up in the default workspace: open (anyone), invitation (only through an invitation link, confab workspace invite) or domain (only e-mail addresses in --signup-domains)", str(&c.Policy)},
		{"signup-domains", "", "comma-separated e-mail domains allowed to sign up under --signup-policy domain (exact: example.com does not admit a@sub.example.com)", str(&c.Domains)},
	}
}

// defaultWorkspace returns the default workspace with the configured
// sign-up policy, or a usage error.
func (c signupConfig) defaultWorkspace() (confab.Workspace, error) {
	ws := confab.Workspace{Signup: confab.SignupPolicy(c.Policy), Domains: splitList(c.Domains)}
	switch {
	case ws.Signup == "" || !ws.Signup.Valid():
		return ws, usageError{fmt.Sprintf("--signup-policy %q: want open, invitation or domain", c.Policy)}
	case ws.Signup == confab.SignupDomain && len(ws.Domains) == 0:
		return ws, usageError{"--signup-policy domain needs --signup-domains"}
	case ws.Signup != confab.SignupDomain && len(ws.Domains) > 0:
		return ws, usageError{"--signup-domains applies only with --signup-policy domain"}
	}
	return ws, nil
}
