package cognito_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/server/cognito"
)

// claims decodes a JWT's payload the way Amplify does (no verification).
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHandler_SignUp(t *testing.T) {
	t.Run("OKAutoConfirmed", func(t *testing.T) {
		e := newEnv(t)
		r := e.call("SignUp", obj{"ClientId": clientID, "Username": "ann@example.com", "Password": password,
			"UserAttributes": []obj{{"Name": "email", "Value": "ann@example.com"}, {"Name": "name", "Value": "Ann"}}})
		r.wantOK(t)
		if r.body["UserConfirmed"] != true || r.str("UserSub") == "" || r.body["CodeDeliveryDetails"] != nil {
			t.Fatalf("SignUp = %v, want confirmed with a UserSub", r.body)
		}
		tok := e.signIn("ann@example.com", password)
		if tok["TokenType"] != "Bearer" || tok["ExpiresIn"] != float64(3600) || tok["RefreshToken"] == nil {
			t.Fatalf("AuthenticationResult = %v", tok)
		}
	})
	t.Run("ErrUsernameExists", func(t *testing.T) {
		e := newEnv(t)
		e.signUp("ann@example.com")
		e.call("SignUp", obj{"ClientId": clientID, "Username": "ANN@example.com", "Password": password}).wantError(t, "UsernameExistsException")
	})
	t.Run("ErrInvalidPassword", func(t *testing.T) {
		e := newEnv(t)
		e.call("SignUp", obj{"ClientId": clientID, "Username": "ann@example.com", "Password": "short"}).wantError(t, "InvalidPasswordException")
	})
	t.Run("ErrNoEmail", func(t *testing.T) {
		e := newEnv(t)
		e.call("SignUp", obj{"ClientId": clientID, "Username": "ann", "Password": password}).wantError(t, "InvalidParameterException")
	})
	t.Run("OKCodeByMail", func(t *testing.T) {
		e := newEnv(t, withMail)
		r := e.call("SignUp", obj{"ClientId": clientID, "Username": "bo@example.com", "Password": password})
		r.wantOK(t)
		if r.body["UserConfirmed"] != false || r.str("CodeDeliveryDetails", "Destination") != "b***@e***" {
			t.Fatalf("SignUp = %v, want unconfirmed, code sent to b***@e***", r.body)
		}
		e.call("InitiateAuth", obj{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
			"AuthParameters": obj{"USERNAME": "bo@example.com", "PASSWORD": password}}).wantError(t, "UserNotConfirmedException")
		code := mailedCode(t, e.mail.last(t).body)
		e.call("ConfirmSignUp", obj{"ClientId": clientID, "Username": "bo@example.com", "ConfirmationCode": wrongCode(code)}).wantError(t, "CodeMismatchException")
		e.call("ConfirmSignUp", obj{"ClientId": clientID, "Username": "bo@example.com", "ConfirmationCode": code}).wantOK(t)
		e.signIn("bo@example.com", password)
		// Single use.
		e.call("ConfirmSignUp", obj{"ClientId": clientID, "Username": "bo@example.com", "ConfirmationCode": code}).wantError(t, "NotAuthorizedException")
	})
}

// mailedCode takes the six-digit code out of a mail body.
func mailedCode(t *testing.T, body string) string {
	t.Helper()
	for _, f := range strings.Fields(body) {
		f = strings.TrimSuffix(f, ".")
		if len(f) == 6 && strings.Trim(f, "0123456789") == "" {
			return f
		}
	}
	t.Fatalf("no code in %q", body)
	return ""
}

func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestHandler_InitiateAuth(t *testing.T) {
	e := newEnv(t)
	sub := e.signUp("ann@example.com")
	t.Run("OKClaims", func(t *testing.T) {
		tok := e.signIn("ann@example.com", password)
		id, access := claims(t, tok["IdToken"].(string)), claims(t, tok["AccessToken"].(string))
		if id["sub"] != sub || id["cognito:username"] == nil || id["aud"] != clientID || id["token_use"] != "id" || id["origin_jti"] == nil || id["event_id"] == nil {
			t.Errorf("id token claims = %v", id)
		}
		if access["sub"] != sub || access["client_id"] != clientID || access["token_use"] != "access" || access["origin_jti"] != id["origin_jti"] ||
			access["scope"] != "aws.cognito.signin.user.admin" || access["iat"] == nil || access["aud"] != nil {
			t.Errorf("access token claims = %v", access)
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		r := e.call("InitiateAuth", obj{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
			"AuthParameters": obj{"USERNAME": "ann@example.com", "PASSWORD": "Wrong-Passw0rd"}})
		r.wantError(t, "NotAuthorizedException")
		unknown := e.call("InitiateAuth", obj{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
			"AuthParameters": obj{"USERNAME": "nobody@example.com", "PASSWORD": "Wrong-Passw0rd"}})
		unknown.wantError(t, "NotAuthorizedException")
		if r.str("message") != unknown.str("message") {
			t.Errorf("messages differ for a wrong password (%q) and an unknown user (%q)", r.str("message"), unknown.str("message"))
		}
	})
}

func TestHandler_Refresh(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com")
	tok := e.signIn("ann@example.com", password)
	refresh := tok["RefreshToken"].(string)
	t.Run("OKRefreshTokenAuthKeepsToken", func(t *testing.T) {
		for range 2 { // the same token again: it was not rotated
			r := e.call("InitiateAuth", obj{"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": clientID, "AuthParameters": obj{"REFRESH_TOKEN": refresh}})
			r.wantOK(t)
			if r.str("AuthenticationResult", "AccessToken") == "" || r.str("AuthenticationResult", "RefreshToken") != "" {
				t.Fatalf("REFRESH_TOKEN_AUTH = %v, want new tokens and no refresh token", r.body)
			}
		}
	})
	t.Run("OKGetTokensFromRefreshTokenRotates", func(t *testing.T) {
		r := e.call("GetTokensFromRefreshToken", obj{"ClientId": clientID, "RefreshToken": refresh})
		r.wantOK(t)
		next := r.str("AuthenticationResult", "RefreshToken")
		if next == "" || next == refresh || r.str("AuthenticationResult", "IdToken") == "" {
			t.Fatalf("GetTokensFromRefreshToken = %v, want a new refresh token", r.body)
		}
		// The rotated token is spent: presenting it again is a replay.
		e.call("GetTokensFromRefreshToken", obj{"ClientId": clientID, "RefreshToken": refresh}).wantError(t, "NotAuthorizedException")
	})
	t.Run("ErrUnknownToken", func(t *testing.T) {
		e.call("InitiateAuth", obj{"AuthFlow": "REFRESH_TOKEN", "ClientId": clientID, "AuthParameters": obj{"REFRESH_TOKEN": "made-up"}}).wantError(t, "NotAuthorizedException")
	})
}

func TestHandler_GetUser(t *testing.T) {
	e := newEnv(t)
	sub := e.signUp("ann@example.com")
	tok := e.signIn("ann@example.com", password)
	r := e.call("GetUser", obj{"AccessToken": tok["AccessToken"]})
	r.wantOK(t)
	attrs := map[string]string{}
	for _, a := range r.body["UserAttributes"].([]any) {
		m := a.(map[string]any)
		attrs[m["Name"].(string)] = m["Value"].(string)
	}
	if attrs["sub"] != sub || attrs["email"] != "ann@example.com" || r.str("Username") == "" {
		t.Fatalf("GetUser = %v", r.body)
	}
	t.Run("ErrIDToken", func(t *testing.T) {
		e.call("GetUser", obj{"AccessToken": tok["IdToken"]}).wantError(t, "NotAuthorizedException")
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		e.call("GetUser", obj{}).wantError(t, "NotAuthorizedException")
	})
}

func TestHandler_GlobalSignOut(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com")
	first, second := e.signIn("ann@example.com", password), e.signIn("ann@example.com", password)
	e.call("GetUser", obj{"AccessToken": first["AccessToken"]}).wantOK(t) // cached from here on
	e.call("GlobalSignOut", obj{"AccessToken": first["AccessToken"]}).wantOK(t)
	for _, tok := range []map[string]any{first, second} {
		r := e.call("GetUser", obj{"AccessToken": tok["AccessToken"]})
		r.wantError(t, "NotAuthorizedException")
		if r.str("message") != "Access Token has been revoked" {
			t.Errorf("message = %q, want Access Token has been revoked", r.str("message"))
		}
		e.call("GetTokensFromRefreshToken", obj{"ClientId": clientID, "RefreshToken": tok["RefreshToken"]}).wantError(t, "NotAuthorizedException")
	}
	if _, err := e.accounts.Verify(second["IdToken"].(string)); err == nil {
		t.Error("an id token of a signed-out session still verifies")
	}
}

func TestHandler_RevokeToken(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com")
	revoked, kept := e.signIn("ann@example.com", password), e.signIn("ann@example.com", password)
	e.call("RevokeToken", obj{"ClientId": clientID, "Token": revoked["RefreshToken"]}).wantOK(t)
	e.call("GetUser", obj{"AccessToken": revoked["AccessToken"]}).wantError(t, "NotAuthorizedException")
	e.call("InitiateAuth", obj{"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": clientID, "AuthParameters": obj{"REFRESH_TOKEN": revoked["RefreshToken"]}}).wantError(t, "NotAuthorizedException")
	e.call("GetUser", obj{"AccessToken": kept["AccessToken"]}).wantOK(t)
	t.Run("ErrNoToken", func(t *testing.T) {
		e.call("RevokeToken", obj{"ClientId": clientID}).wantError(t, "InvalidParameterException")
	})
}

func TestHandler_ClientSecret(t *testing.T) {
	const secret = "client-secret"
	e := newEnv(t, func(_ *auth.Config, c *cognito.Config) { c.ClientSecret = secret })
	e.call("SignUp", obj{"ClientId": clientID, "Username": "ann@example.com", "Password": password}).wantError(t, "NotAuthorizedException")
	hash := secretHash(secret, "ann@example.com")
	e.call("SignUp", obj{"ClientId": clientID, "Username": "ann@example.com", "Password": password, "SecretHash": hash}).wantOK(t)
	e.call("InitiateAuth", obj{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
		"AuthParameters": obj{"USERNAME": "ann@example.com", "PASSWORD": password, "SECRET_HASH": "wrong"}}).wantError(t, "NotAuthorizedException")
	r := e.call("InitiateAuth", obj{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
		"AuthParameters": obj{"USERNAME": "ann@example.com", "PASSWORD": password, "SECRET_HASH": hash}})
	r.wantOK(t)
	refresh := r.str("AuthenticationResult", "RefreshToken")
	sub := claims(t, r.str("AuthenticationResult", "IdToken"))["sub"].(string)
	e.call("InitiateAuth", obj{"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": clientID,
		"AuthParameters": obj{"REFRESH_TOKEN": refresh}}).wantError(t, "NotAuthorizedException")
	e.call("InitiateAuth", obj{"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": clientID,
		"AuthParameters": obj{"REFRESH_TOKEN": refresh, "SECRET_HASH": secretHash(secret, sub)}}).wantOK(t)
	e.call("GetTokensFromRefreshToken", obj{"ClientId": clientID, "RefreshToken": refresh}).wantError(t, "NotAuthorizedException")
	e.call("GetTokensFromRefreshToken", obj{"ClientId": clientID, "RefreshToken": refresh, "ClientSecret": secret}).wantOK(t)
}

// TestHandler_SignUpPolicy: Cognito's SignUp carries the invitation token
// in ClientMetadata["invitation"] (what a pool's pre sign-up trigger
// receives); a refusal is NotAuthorizedException.
func TestHandler_SignUpPolicy(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	e := newEnv(t, func(a *auth.Config, _ *cognito.Config) {
		a.Workspace = confab.Workspace{ID: "acme", Signup: confab.SignupInvitation}
		a.InvitationKey = key
	})
	signUp := func(email string, metadata obj) reply {
		return e.call("SignUp", obj{"ClientId": clientID, "Username": email, "Password": password,
			"UserAttributes": []obj{{"Name": "email", "Value": email}}, "ClientMetadata": metadata})
	}
	t.Run("ErrNoInvitation", func(t *testing.T) {
		signUp("ann@example.com", nil).wantError(t, "NotAuthorizedException")
	})
	t.Run("ErrForged", func(t *testing.T) {
		forged := auth.NewInvitation([]byte("another key"), "acme", "", time.Hour, time.Now())
		signUp("ann@example.com", obj{"invitation": forged}).wantError(t, "NotAuthorizedException")
	})
	t.Run("OK", func(t *testing.T) {
		signUp("ann@example.com", obj{"invitation": auth.NewInvitation(key, "acme", "", time.Hour, time.Now())}).wantOK(t)
		e.signIn("ann@example.com", password)
	})
}
