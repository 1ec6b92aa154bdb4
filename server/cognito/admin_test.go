package cognito_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/server/cognito"
)

const (
	adminKeyID  = "AKIDCONFABTEST"
	adminSecret = "confab-admin-secret-for-tests"
)

func withAdmin(_ *auth.Config, c *cognito.Config) {
	c.AdminAccessKeyID, c.AdminSecretAccessKey = adminKeyID, adminSecret
}

// signed builds an admin request signed with the AWS SDK's signer, as the
// AWS CLI and SDKs sign it.
func (e *env) signed(op string, in any, keyID, secret string, at time.Time) *http.Request {
	e.t.Helper()
	req := e.newRequest(op, in)
	req.URL.Path = "/cognito/"
	body, err := io.ReadAll(req.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Body = io.NopCloser(bytesReader(body))
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "cognito-idp", "local", at); err != nil {
		e.t.Fatal(err)
	}
	return req
}

func (e *env) admin(op string, in any) reply {
	e.t.Helper()
	return e.post(e.signed(op, in, adminKeyID, adminSecret, time.Now()))
}

func TestHandler_AdminSignature(t *testing.T) {
	e := newEnv(t, withAdmin)
	in := obj{"UserPoolId": poolID}
	t.Run("OK", func(t *testing.T) {
		e.admin("DescribeUserPool", in).wantOK(t)
	})
	t.Run("ErrUnsigned", func(t *testing.T) {
		e.call("DescribeUserPool", in).wantError(t, "NotAuthorizedException")
	})
	t.Run("ErrWrongSecret", func(t *testing.T) {
		e.post(e.signed("DescribeUserPool", in, adminKeyID, "not-the-secret", time.Now())).wantError(t, "AccessDeniedException")
	})
	t.Run("ErrWrongKey", func(t *testing.T) {
		e.post(e.signed("DescribeUserPool", in, "AKIDOTHER", adminSecret, time.Now())).wantError(t, "AccessDeniedException")
	})
	t.Run("ErrBodyChanged", func(t *testing.T) {
		req := e.signed("ListUsers", obj{"UserPoolId": poolID, "Limit": 1}, adminKeyID, adminSecret, time.Now())
		req.Body = io.NopCloser(bytesReader([]byte(`{"UserPoolId":"local_confab","Limit":2}`)))
		e.post(req).wantError(t, "AccessDeniedException")
	})
	t.Run("ErrTargetChanged", func(t *testing.T) {
		req := e.signed("AdminGetUser", obj{"UserPoolId": poolID, "Username": "x"}, adminKeyID, adminSecret, time.Now())
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.AdminDeleteUser")
		e.post(req).wantError(t, "AccessDeniedException")
	})
	t.Run("ErrOld", func(t *testing.T) {
		e.post(e.signed("DescribeUserPool", in, adminKeyID, adminSecret, time.Now().Add(-time.Hour))).wantError(t, "AccessDeniedException")
	})
	t.Run("ErrNoKeyConfigured", func(t *testing.T) {
		plain := newEnv(t)
		plain.post(plain.signed("DescribeUserPool", in, adminKeyID, adminSecret, time.Now())).wantError(t, "AccessDeniedException")
	})
	t.Run("ErrWrongPool", func(t *testing.T) {
		e.admin("DescribeUserPool", obj{"UserPoolId": "local_other"}).wantError(t, "ResourceNotFoundException")
	})
}

func TestHandler_AdminUsers(t *testing.T) {
	e := newEnv(t, withAdmin)
	// The recipe's setup, as its CLI commands send it.
	r := e.admin("AdminCreateUser", obj{"UserPoolId": poolID, "Username": "testuser1",
		"UserAttributes":    []obj{{"Name": "email", "Value": "testuser1@example.com"}, {"Name": "email_verified", "Value": "true"}},
		"TemporaryPassword": "TempPassword123!", "MessageAction": "SUPPRESS"})
	r.wantOK(t)
	if r.str("User", "UserStatus") != "FORCE_CHANGE_PASSWORD" || r.str("User", "Username") != "testuser1" {
		t.Fatalf("AdminCreateUser = %v", r.body)
	}
	t.Run("SRPFirstSignInNewPasswordRequired", func(t *testing.T) {
		// Amplify's default sign-in is SRP: the temporary password's
		// verifier answers, and the challenge follows.
		r := e.srpSignIn("testuser1@example.com", "TempPassword123!")
		r.wantOK(t)
		if r.str("ChallengeName") != "NEW_PASSWORD_REQUIRED" || r.str("Session") == "" || r.str("ChallengeParameters", "userAttributes") == "" {
			t.Fatalf("SRP first sign-in = %v, want NEW_PASSWORD_REQUIRED", r.body)
		}
	})
	t.Run("NewPasswordRequired", func(t *testing.T) {
		r := e.call("InitiateAuth", obj{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
			"AuthParameters": obj{"USERNAME": "testuser1", "PASSWORD": "TempPassword123!"}})
		r.wantOK(t)
		if r.str("ChallengeName") != "NEW_PASSWORD_REQUIRED" || r.str("Session") == "" || r.body["AuthenticationResult"] != nil {
			t.Fatalf("first sign-in = %v, want NEW_PASSWORD_REQUIRED", r.body)
		}
		e.call("RespondToAuthChallenge", obj{"ChallengeName": "NEW_PASSWORD_REQUIRED", "ClientId": clientID, "Session": "forged",
			"ChallengeResponses": obj{"USERNAME": "testuser1", "NEW_PASSWORD": "NewPassw0rd!"}}).wantError(t, "NotAuthorizedException")
		e.call("RespondToAuthChallenge", obj{"ChallengeName": "NEW_PASSWORD_REQUIRED", "ClientId": clientID, "Session": r.str("Session"),
			"ChallengeResponses": obj{"USERNAME": "testuser1", "NEW_PASSWORD": "weak"}}).wantError(t, "InvalidPasswordException")
		done := e.call("RespondToAuthChallenge", obj{"ChallengeName": "NEW_PASSWORD_REQUIRED", "ClientId": clientID, "Session": r.str("Session"),
			"ChallengeResponses": obj{"USERNAME": "testuser1", "NEW_PASSWORD": "NewPassw0rd!"}})
		done.wantOK(t)
		if done.str("AuthenticationResult", "AccessToken") == "" {
			t.Fatalf("answer = %v, want tokens", done.body)
		}
		e.signIn("testuser1@example.com", "NewPassw0rd!")
		e.srpSignIn("testuser1", "NewPassw0rd!").wantOK(t)
		if s := e.admin("AdminGetUser", obj{"UserPoolId": poolID, "Username": "testuser1"}).str("UserStatus"); s != "CONFIRMED" {
			t.Errorf("UserStatus = %q, want CONFIRMED", s)
		}
	})
	t.Run("SetUserPasswordPermanent", func(t *testing.T) {
		e.admin("AdminSetUserPassword", obj{"UserPoolId": poolID, "Username": "testuser1", "Password": "TestPassword123!", "Permanent": true}).wantOK(t)
		e.signIn("testuser1", "TestPassword123!")
		e.srpSignIn("testuser1@example.com", "TestPassword123!").wantOK(t)
		e.srpSignIn("testuser1@example.com", "NewPassw0rd!").wantError(t, "NotAuthorizedException") // the old verifier is gone
	})
	t.Run("GetUser", func(t *testing.T) {
		r := e.admin("AdminGetUser", obj{"UserPoolId": poolID, "Username": "testuser1@example.com"})
		r.wantOK(t)
		if r.body["Enabled"] != true || r.str("Username") != "testuser1" {
			t.Fatalf("AdminGetUser = %v", r.body)
		}
		e.admin("AdminGetUser", obj{"UserPoolId": poolID, "Username": "nobody"}).wantError(t, "UserNotFoundException")
	})
	t.Run("DisableEnable", func(t *testing.T) {
		tok := e.signIn("testuser1", "TestPassword123!")
		e.admin("AdminDisableUser", obj{"UserPoolId": poolID, "Username": "testuser1"}).wantOK(t)
		e.call("GetUser", obj{"AccessToken": tok["AccessToken"]}).wantError(t, "NotAuthorizedException")
		e.call("GetTokensFromRefreshToken", obj{"ClientId": clientID, "RefreshToken": tok["RefreshToken"]}).wantError(t, "NotAuthorizedException")
		e.call("InitiateAuth", obj{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
			"AuthParameters": obj{"USERNAME": "testuser1", "PASSWORD": "TestPassword123!"}}).wantError(t, "NotAuthorizedException")
		e.srpSignIn("testuser1", "TestPassword123!").wantError(t, "NotAuthorizedException")
		e.admin("AdminEnableUser", obj{"UserPoolId": poolID, "Username": "testuser1"}).wantOK(t)
		e.signIn("testuser1", "TestPassword123!")
	})
	t.Run("GlobalSignOut", func(t *testing.T) {
		tok := e.signIn("testuser1", "TestPassword123!")
		e.admin("AdminUserGlobalSignOut", obj{"UserPoolId": poolID, "Username": "testuser1"}).wantOK(t)
		e.call("GetUser", obj{"AccessToken": tok["AccessToken"]}).wantError(t, "NotAuthorizedException")
	})
	t.Run("ListUsers", func(t *testing.T) {
		e.signUp("zed@example.com")
		for _, tt := range []struct {
			filter string
			want   int
		}{{"", 2}, {`email = "zed@example.com"`, 1}, {`email ^= "test"`, 1}, {`username = "testuser1"`, 1}, {`email = "none@example.com"`, 0}} {
			r := e.admin("ListUsers", obj{"UserPoolId": poolID, "Filter": tt.filter})
			r.wantOK(t)
			if got := len(r.body["Users"].([]any)); got != tt.want {
				t.Errorf("ListUsers(%q) = %d users, want %d", tt.filter, got, tt.want)
			}
		}
		page := e.admin("ListUsers", obj{"UserPoolId": poolID, "Limit": 1})
		next := e.admin("ListUsers", obj{"UserPoolId": poolID, "Limit": 1, "PaginationToken": page.str("PaginationToken")})
		if page.str("PaginationToken") == "" || len(next.body["Users"].([]any)) != 1 {
			t.Errorf("pages = %v, %v", page.body, next.body)
		}
		e.admin("ListUsers", obj{"UserPoolId": poolID, "Filter": `family_name = "x"`}).wantError(t, "InvalidParameterException")
		e.admin("ListUsers", obj{"UserPoolId": poolID, "Filter": `email = zed`}).wantError(t, "InvalidParameterException")
	})
	t.Run("DescribeUserPoolClient", func(t *testing.T) {
		r := e.admin("DescribeUserPoolClient", obj{"UserPoolId": poolID, "ClientId": clientID})
		r.wantOK(t)
		if r.str("UserPoolClient", "ClientId") != clientID {
			t.Fatalf("DescribeUserPoolClient = %v", r.body)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		tok := e.signIn("testuser1", "TestPassword123!")
		e.admin("AdminDeleteUser", obj{"UserPoolId": poolID, "Username": "testuser1"}).wantOK(t)
		e.call("GetUser", obj{"AccessToken": tok["AccessToken"]}).wantError(t, "NotAuthorizedException")
		e.admin("AdminDeleteUser", obj{"UserPoolId": poolID, "Username": "testuser1"}).wantError(t, "UserNotFoundException")
	})
}
