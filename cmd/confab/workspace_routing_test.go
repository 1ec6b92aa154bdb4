package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func getBody(t *testing.T, client *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestWorkspace_Routing: the paths of a workspace under /w/<id>/ (the
// same routes as the root), the process's at the root only, an unknown
// workspace 404 JSON, the workspace's issuer and claim, its Cognito
// endpoint, and metrics labelled by workspace.
func TestWorkspace_Routing(t *testing.T) {
	root := runMain(t, "--workspaces", writeWorkspaces(t, "acme"))
	acme := root.inWorkspace("acme")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	t.Run("UnknownWorkspace", func(t *testing.T) {
		for _, p := range []string{"/w/nope/graphql", "/w/nope/", "/w/nope", "/w/"} {
			status, body, h := getBody(t, noRedirect, root.url+p)
			if status != http.StatusNotFound || !strings.Contains(h.Get("Content-Type"), "json") || !strings.Contains(body, "NOT_FOUND") {
				t.Errorf("GET %s: %d %s %q, want 404 JSON NOT_FOUND", p, status, h.Get("Content-Type"), body)
			}
		}
		if status, body := root.postJSON(t, "/w/nope/graphql", map[string]any{"query": "{ me { userId } }"}, nil); status != http.StatusNotFound {
			t.Errorf("POST /w/nope/graphql: %d %v, want 404", status, body)
		}
	})
	t.Run("BaseRedirects", func(t *testing.T) {
		status, _, h := getBody(t, noRedirect, root.url+"/w/acme")
		if status != http.StatusMovedPermanently || h.Get("Location") != "/w/acme/" {
			t.Errorf("GET /w/acme: %d Location %q, want 301 to /w/acme/", status, h.Get("Location"))
		}
	})
	t.Run("ProcessRoutesAtRootOnly", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
			if status, _, _ := getBody(t, http.DefaultClient, root.url+p); status != http.StatusOK {
				t.Errorf("GET %s: %d, want 200", p, status)
			}
			if status, _, _ := getBody(t, http.DefaultClient, acme.url+p); status != http.StatusNotFound {
				t.Errorf("GET /w/acme%s: %d, want 404", p, status)
			}
		}
	})
	t.Run("IssuerAndClaim", func(t *testing.T) {
		var rootDoc, acmeDoc map[string]any
		_, body, _ := getBody(t, http.DefaultClient, root.url+"/.well-known/openid-configuration")
		json.Unmarshal([]byte(body), &rootDoc)
		_, body, _ = getBody(t, http.DefaultClient, acme.url+"/.well-known/openid-configuration")
		json.Unmarshal([]byte(body), &acmeDoc)
		if acmeDoc["issuer"] != rootDoc["issuer"].(string)+"/w/acme" {
			t.Errorf("acme's issuer %v, want the default's %v + /w/acme", acmeDoc["issuer"], rootDoc["issuer"])
		}
		if !strings.HasSuffix(acmeDoc["jwks_uri"].(string), "/w/acme/.well-known/jwks.json") {
			t.Errorf("acme's jwks_uri %v, want under /w/acme/", acmeDoc["jwks_uri"])
		}
		_, rootKeys, _ := getBody(t, http.DefaultClient, root.url+"/.well-known/jwks.json")
		_, acmeKeys, _ := getBody(t, http.DefaultClient, acme.url+"/.well-known/jwks.json")
		if rootKeys != acmeKeys {
			t.Errorf("acme's JWKS differs from the root's: one signing key serves every workspace")
		}
		ann := acme.signUp(t, "ann")
		claims := jwt.MapClaims{}
		jwt.NewParser().ParseUnverified(ann.idToken, claims)
		if claims["iss"] != acmeDoc["issuer"] || claims["custom:workspace"] != "acme" {
			t.Errorf("acme's id token iss %v custom:workspace %v", claims["iss"], claims["custom:workspace"])
		}
		if me := acme.mustGQL(t, ann.idToken, `{ me { userId } }`, nil)["me"].(map[string]any); me["userId"] != ann.userID {
			t.Errorf("me at acme: %v", me)
		}
	})
	t.Run("Cognito", func(t *testing.T) {
		email := "cog-acme@example.com"
		if _, errName, out := acme.cognitoCall(t, "SignUp", map[string]any{"ClientId": defaultClientID, "Username": email, "Password": "Passw0rd!x",
			"UserAttributes": []map[string]string{{"Name": "email", "Value": email}}}); errName != "" {
			t.Fatalf("SignUp at /w/acme/cognito: %s %v", errName, out)
		}
		_, errName, out := acme.cognitoCall(t, "InitiateAuth", passwordAuth(defaultClientID, email))
		if errName != "" {
			t.Fatalf("InitiateAuth at acme: %s %v", errName, out)
		}
		tok := out["AuthenticationResult"].(map[string]any)["IdToken"].(string)
		claims := jwt.MapClaims{}
		jwt.NewParser().ParseUnverified(tok, claims)
		if claims["custom:workspace"] != "acme" {
			t.Errorf("Cognito token of acme: custom:workspace %v", claims["custom:workspace"])
		}
		if _, errName, _ := root.cognitoCall(t, "InitiateAuth", passwordAuth(defaultClientID, email)); errName == "" {
			t.Errorf("acme's account signs in at the root's Cognito endpoint")
		}
	})
	t.Run("MetricsLabelled", func(t *testing.T) {
		acme.gql(t, "", `{ me { userId } }`, nil) // a 401 counted at acme
		_, body, _ := getBody(t, http.DefaultClient, root.url+"/metrics")
		for _, want := range []string{`workspace="acme"`, `workspace="default"`, "go_goroutines "} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "confab_http_requests_total{") && !strings.Contains(line, "workspace=") {
				t.Errorf("unlabelled with workspaces: %s", line)
			}
		}
	})
}
