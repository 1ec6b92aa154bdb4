package cognito_test

import (
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/auth/srp"
	"github.com/confab-chat/confab/server/cognito"
)

// srpSignIn runs USER_SRP_AUTH as Amplify does, computing the client's
// side with the password, and returns the answer to the challenge.
func (e *env) srpSignIn(login, pw string) reply {
	e.t.Helper()
	a, A := srp.ClientA()
	r := e.call("InitiateAuth", obj{"AuthFlow": "USER_SRP_AUTH", "ClientId": clientID,
		"AuthParameters": obj{"USERNAME": login, "SRP_A": A.Text(16)}})
	r.wantOK(e.t)
	if r.str("ChallengeName") != "PASSWORD_VERIFIER" {
		e.t.Fatalf("InitiateAuth USER_SRP_AUTH = %v, want PASSWORD_VERIFIER", r.body)
	}
	user := r.str("ChallengeParameters", "USER_ID_FOR_SRP")
	salt, ok1 := new(big.Int).SetString(r.str("ChallengeParameters", "SALT"), 16)
	B, ok2 := new(big.Int).SetString(r.str("ChallengeParameters", "SRP_B"), 16)
	block := r.str("ChallengeParameters", "SECRET_BLOCK")
	rawBlock, err := base64.StdEncoding.DecodeString(block)
	if !ok1 || !ok2 || err != nil || user == "" || r.str("ChallengeParameters", "USERNAME") == "" {
		e.t.Fatalf("challenge parameters = %v", r.body["ChallengeParameters"])
	}
	// Amplify's TIMESTAMP: day of month not padded, UTC.
	ts := time.Now().UTC().Format("Mon Jan 2 15:04:05 UTC 2006")
	key := srp.ClientKey("confab", user, pw, salt, a, A, B)
	sig := base64.StdEncoding.EncodeToString(srp.Signature(key, "confab", user, rawBlock, ts))
	return e.call("RespondToAuthChallenge", obj{"ChallengeName": "PASSWORD_VERIFIER", "ClientId": clientID,
		"ChallengeResponses": obj{"USERNAME": r.str("ChallengeParameters", "USERNAME"), "PASSWORD_CLAIM_SECRET_BLOCK": block,
			"TIMESTAMP": ts, "PASSWORD_CLAIM_SIGNATURE": sig}})
}

func TestHandler_SRP(t *testing.T) {
	e := newEnv(t)
	sub := e.signUp("ann@example.com")
	t.Run("OK", func(t *testing.T) {
		r := e.srpSignIn("ann@example.com", password)
		r.wantOK(t)
		access := r.str("AuthenticationResult", "AccessToken")
		if access == "" || r.str("AuthenticationResult", "RefreshToken") == "" || claims(t, access)["sub"] != sub {
			t.Fatalf("RespondToAuthChallenge = %v, want tokens of %s", r.body, sub)
		}
		e.call("GetUser", obj{"AccessToken": access}).wantOK(t)
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		e.srpSignIn("ann@example.com", "Wrong-Passw0rd").wantError(t, "NotAuthorizedException")
	})
	t.Run("ErrUnknownUserLooksTheSame", func(t *testing.T) {
		// The first step answers an unknown user like a real one.
		e.srpSignIn("nobody@example.com", password).wantError(t, "NotAuthorizedException")
	})
	t.Run("ErrForgedSecretBlock", func(t *testing.T) {
		e.call("RespondToAuthChallenge", obj{"ChallengeName": "PASSWORD_VERIFIER", "ClientId": clientID,
			"ChallengeResponses": obj{"USERNAME": sub, "PASSWORD_CLAIM_SECRET_BLOCK": base64.StdEncoding.EncodeToString([]byte("forged")),
				"TIMESTAMP": time.Now().UTC().Format("Mon Jan 2 15:04:05 UTC 2006"), "PASSWORD_CLAIM_SIGNATURE": "AAAA"}}).wantError(t, "NotAuthorizedException")
	})
	t.Run("ErrBadA", func(t *testing.T) {
		for _, a := range []string{"", "zz", "0"} {
			e.call("InitiateAuth", obj{"AuthFlow": "USER_SRP_AUTH", "ClientId": clientID,
				"AuthParameters": obj{"USERNAME": "ann@example.com", "SRP_A": a}}).wantError(t, "InvalidParameterException")
		}
	})
}

func TestHandler_SRPDisabled(t *testing.T) {
	e := newEnv(t, func(a *auth.Config, _ *cognito.Config) { a.DisableSRP = true })
	e.signUp("ann@example.com")
	_, A := srp.ClientA()
	e.call("InitiateAuth", obj{"AuthFlow": "USER_SRP_AUTH", "ClientId": clientID,
		"AuthParameters": obj{"USERNAME": "ann@example.com", "SRP_A": A.Text(16)}}).wantError(t, "InvalidParameterException")
	e.signIn("ann@example.com", password) // passwords still work
}
