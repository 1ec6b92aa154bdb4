package auth

import (
	"testing"

	"github.com/confab-chat/confab"
	"github.com/golang-jwt/jwt/v5"
)

// TestService_Workspace: a workspace's service puts custom:workspace in
// its tokens and sets Identity.Workspace; a token of one workspace is
// refused by another's service sharing the signing key, by issuer and,
// should the issuers be configured alike, by the claim.
func TestService_Workspace(t *testing.T) {
	def, _ := newService(t)
	acme, _ := newService(t, Config{KeyFile: def.cfg.KeyFile, Issuer: "http://confab.test/w/acme", Workspace: confab.Workspace{ID: "acme"}})
	tok := signUpAndLogin(t, acme, "ann@example.com")
	defTok := signUpAndLogin(t, def, "bob@example.com")

	if c := claimsOf(t, tok.IDToken); c["custom:workspace"] != "acme" || c["iss"] != "http://confab.test/w/acme" {
		t.Errorf("id token claims = %v, want custom:workspace acme and the workspace's issuer", c)
	}
	if c := claimsOf(t, defTok.AccessToken); c["custom:workspace"] != nil {
		t.Errorf("default workspace's token has custom:workspace %v, want none", c["custom:workspace"])
	}
	id, err := acme.Verify(tok.AccessToken)
	if err != nil || id.Workspace != "acme" {
		t.Fatalf("Verify at acme = %+v, %v; want workspace acme", id, err)
	}
	if id, err := def.Verify(defTok.IDToken); err != nil || id.Workspace != "" {
		t.Fatalf("Verify at default = %+v, %v; want the default workspace", id, err)
	}

	_, err = def.Verify(tok.AccessToken)
	wantCode(t, err, confab.CodeUnauthenticated)
	_, err = acme.Verify(defTok.AccessToken)
	wantCode(t, err, confab.CodeUnauthenticated)

	// Same issuer, other claim: still refused.
	globex, _ := newService(t, Config{KeyFile: def.cfg.KeyFile, Issuer: "http://confab.test/w/acme", Workspace: confab.Workspace{ID: "globex"}})
	_, err = globex.Verify(tok.IDToken)
	wantCode(t, err, confab.CodeUnauthenticated)
	forged := sign(t, def.key, jwt.SigningMethodRS256, with(claimsOf(t, defTok.IDToken), "custom:workspace", "acme"), def.kid)
	_, err = def.Verify(forged)
	wantCode(t, err, confab.CodeUnauthenticated)
}
