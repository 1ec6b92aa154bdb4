package auth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/confab-chat/confab"
)

// Who may sign up in a workspace is its sign-up policy (Config.Workspace,
// confab.SignupPolicy): open (anyone), invitation (a valid invitation token
// of this workspace, invitation.go) or domain (an e-mail address whose
// domain is one of Workspace.Domains). It applies to people signing
// themselves up (SignUp, Register: /auth/signup and Cognito's SignUp), not
// to accounts an administrator makes (CreateUser, CreateAccount). A refused
// sign-up stores nothing and is CodeForbidden, after the per-address
// sign-up limit has counted it.

// signupWorkspace checks the policy of ws and returns ws with its domains
// in canonical form (lowercase, without a leading "@"), or an error naming
// the bad setting.
func signupWorkspace(ws confab.Workspace, key []byte) (confab.Workspace, error) {
	if !ws.Signup.Valid() {
		return ws, fmt.Errorf("auth: workspace %q: sign-up policy %q is not one of open, invitation, domain", ws.ID, ws.Signup)
	}
	if ws.Signup == "" {
		ws.Signup = confab.SignupOpen
	}
	domains := make([]string, 0, len(ws.Domains))
	for _, d := range ws.Domains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if d == "" || strings.ContainsAny(d, "@ \t") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
			return ws, fmt.Errorf("auth: workspace %q: %q is not an e-mail domain", ws.ID, d)
		}
		domains = append(domains, d)
	}
	ws.Domains = domains
	switch {
	case ws.Signup == confab.SignupDomain && len(ws.Domains) == 0:
		return ws, fmt.Errorf("auth: workspace %q: sign-up policy domain needs at least one domain", ws.ID)
	case ws.Signup == confab.SignupInvitation && len(key) == 0:
		return ws, fmt.Errorf("auth: workspace %q: sign-up policy invitation needs Config.InvitationKey", ws.ID)
	}
	return ws, nil
}

var errOtherDomain = confab.Errorf(confab.CodeForbidden, "Sign-up in this workspace is open to the e-mail addresses of its organisation only. Sign up with your organisation's address.")

// admit applies the sign-up policy to a person signing up with email
// (valid and lowercase) and invitation (the token they brought, if any).
func (s *Service) admit(email, invitation string) error {
	ws := s.cfg.Workspace
	switch ws.Signup {
	case confab.SignupInvitation:
		return VerifyInvitation(s.cfg.InvitationKey, invitation, ws.ID, email, s.now())
	case confab.SignupDomain:
		// The domain is what follows the last "@" (a quoted local part
		// may hold one), compared whole: "globex.com" admits
		// "a@globex.com", not "a@evil-globex.com" or "a@globex.com.evil".
		domain := email[strings.LastIndexByte(email, '@')+1:]
		if !slices.Contains(ws.Domains, domain) {
			return errOtherDomain
		}
	}
	return nil
}
