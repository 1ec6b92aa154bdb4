package cognito_test

import (
	"testing"
	"time"

	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/server/cognito"
)

func TestHandler_ForgotPassword(t *testing.T) {
	e := newEnv(t, withMail)
	e.call("SignUp", obj{"ClientId": clientID, "Username": "ann@example.com", "Password": password}).wantOK(t)
	e.call("ConfirmSignUp", obj{"ClientId": clientID, "Username": "ann@example.com", "ConfirmationCode": mailedCode(t, e.mail.last(t).body)}).wantOK(t)
	old := e.signIn("ann@example.com", password)

	t.Run("UnknownUserLooksTheSame", func(t *testing.T) {
		before := e.mail.count()
		r := e.call("ForgotPassword", obj{"ClientId": clientID, "Username": "nobody@example.com"})
		r.wantOK(t)
		if r.str("CodeDeliveryDetails", "Destination") != "n***@e***" || e.mail.count() != before {
			t.Fatalf("ForgotPassword(unknown) = %v, %d mails; want a destination and no mail", r.body, e.mail.count()-before)
		}
		e.call("ConfirmForgotPassword", obj{"ClientId": clientID, "Username": "nobody@example.com", "ConfirmationCode": "123456", "Password": "NewPassw0rd!"}).wantError(t, "CodeMismatchException")
	})
	r := e.call("ForgotPassword", obj{"ClientId": clientID, "Username": "ann@example.com"})
	r.wantOK(t)
	if r.str("CodeDeliveryDetails", "Destination") != "a***@e***" || e.mail.last(t).to != "ann@example.com" {
		t.Fatalf("ForgotPassword = %v, mail to %q", r.body, e.mail.last(t).to)
	}
	code := mailedCode(t, e.mail.last(t).body)
	e.call("ConfirmForgotPassword", obj{"ClientId": clientID, "Username": "ann@example.com", "ConfirmationCode": code, "Password": "weak"}).wantError(t, "InvalidPasswordException")
	e.call("ConfirmForgotPassword", obj{"ClientId": clientID, "Username": "ann@example.com", "ConfirmationCode": wrongCode(code), "Password": "NewPassw0rd!"}).wantError(t, "CodeMismatchException")
	e.call("ConfirmForgotPassword", obj{"ClientId": clientID, "Username": "ann@example.com", "ConfirmationCode": code, "Password": "NewPassw0rd!"}).wantOK(t)
	e.signIn("ann@example.com", "NewPassw0rd!")
	e.srpSignIn("ann@example.com", "NewPassw0rd!").wantOK(t)
	// The reset signed the old sessions out, and the code is spent.
	e.call("GetUser", obj{"AccessToken": old["AccessToken"]}).wantError(t, "NotAuthorizedException")
	e.call("ConfirmForgotPassword", obj{"ClientId": clientID, "Username": "ann@example.com", "ConfirmationCode": code, "Password": "Other-Passw0rd"}).wantError(t, "ExpiredCodeException")
}

func TestHandler_CodeLimits(t *testing.T) {
	clk := &testClock{t: time.Now()}
	e := newEnv(t, withMail, func(a *auth.Config, _ *cognito.Config) { a.Now = clk.now; a.CodeAttempts = 3 })
	e.call("SignUp", obj{"ClientId": clientID, "Username": "ann@example.com", "Password": password}).wantOK(t)
	code := mailedCode(t, e.mail.last(t).body)
	t.Run("ErrAttemptsUsedUp", func(t *testing.T) {
		for range 2 {
			e.call("ConfirmSignUp", obj{"ClientId": clientID, "Username": "ann@example.com", "ConfirmationCode": wrongCode(code)}).wantError(t, "CodeMismatchException")
		}
		e.call("ConfirmSignUp", obj{"ClientId": clientID, "Username": "ann@example.com", "ConfirmationCode": wrongCode(code)}).wantError(t, "TooManyFailedAttemptsException")
		e.call("ConfirmSignUp", obj{"ClientId": clientID, "Username": "ann@example.com", "ConfirmationCode": code}).wantError(t, "ExpiredCodeException")
	})
	t.Run("ErrExpired", func(t *testing.T) {
		r := e.call("ResendConfirmationCode", obj{"ClientId": clientID, "Username": "ann@example.com"})
		r.wantOK(t)
		code := mailedCode(t, e.mail.last(t).body)
		clk.add(time.Hour)
		e.call("ConfirmSignUp", obj{"ClientId": clientID, "Username": "ann@example.com", "ConfirmationCode": code}).wantError(t, "ExpiredCodeException")
	})
	t.Run("OKAfterResend", func(t *testing.T) {
		e.call("ResendConfirmationCode", obj{"ClientId": clientID, "Username": "ann@example.com"}).wantOK(t)
		e.call("ConfirmSignUp", obj{"ClientId": clientID, "Username": "ann@example.com", "ConfirmationCode": mailedCode(t, e.mail.last(t).body)}).wantOK(t)
	})
	t.Run("ErrMailFlood", func(t *testing.T) {
		var last reply
		for range 6 {
			last = e.call("ForgotPassword", obj{"ClientId": clientID, "Username": "ann@example.com"})
		}
		last.wantError(t, "TooManyRequestsException")
	})
}

func TestHandler_ChangePassword(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com")
	tok := e.signIn("ann@example.com", password)
	e.call("ChangePassword", obj{"AccessToken": tok["AccessToken"], "PreviousPassword": "Wrong-Passw0rd", "ProposedPassword": "NewPassw0rd!"}).wantError(t, "NotAuthorizedException")
	e.call("ChangePassword", obj{"AccessToken": tok["AccessToken"], "PreviousPassword": password, "ProposedPassword": "weak"}).wantError(t, "InvalidPasswordException")
	e.call("ChangePassword", obj{"AccessToken": tok["AccessToken"], "PreviousPassword": password, "ProposedPassword": "NewPassw0rd!"}).wantOK(t)
	e.signIn("ann@example.com", "NewPassw0rd!")
	e.srpSignIn("ann@example.com", "NewPassw0rd!").wantOK(t)
	e.srpSignIn("ann@example.com", password).wantError(t, "NotAuthorizedException")
}

func TestHandler_UpdateUserAttributes(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com")
	e.signUp("bo@example.com")
	tok := e.signIn("ann@example.com", password)
	e.call("UpdateUserAttributes", obj{"AccessToken": tok["AccessToken"], "UserAttributes": []obj{{"Name": "name", "Value": "Ann A."}, {"Name": "email", "Value": "ann.a@example.com"}}}).wantOK(t)
	r := e.call("GetUser", obj{"AccessToken": tok["AccessToken"]})
	got := map[string]string{}
	for _, a := range r.body["UserAttributes"].([]any) {
		m := a.(map[string]any)
		got[m["Name"].(string)] = m["Value"].(string)
	}
	if got["name"] != "Ann A." || got["email"] != "ann.a@example.com" {
		t.Fatalf("attributes after update = %v", got)
	}
	e.signIn("ann.a@example.com", password)
	e.call("UpdateUserAttributes", obj{"AccessToken": tok["AccessToken"], "UserAttributes": []obj{{"Name": "email", "Value": "bo@example.com"}}}).wantError(t, "AliasExistsException")
	e.call("UpdateUserAttributes", obj{"AccessToken": tok["AccessToken"], "UserAttributes": []obj{{"Name": "custom:role", "Value": "admin"}}}).wantError(t, "InvalidParameterException")
	e.call("UpdateUserAttributes", obj{"AccessToken": tok["AccessToken"], "UserAttributes": []obj{{"Name": "email", "Value": "not an address"}}}).wantError(t, "InvalidParameterException")
}

func TestHandler_DeleteUser(t *testing.T) {
	e := newEnv(t)
	e.signUp("ann@example.com")
	tok := e.signIn("ann@example.com", password)
	e.call("DeleteUser", obj{"AccessToken": tok["AccessToken"]}).wantOK(t)
	e.call("GetUser", obj{"AccessToken": tok["AccessToken"]}).wantError(t, "NotAuthorizedException")
	e.call("InitiateAuth", obj{"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
		"AuthParameters": obj{"USERNAME": "ann@example.com", "PASSWORD": password}}).wantError(t, "NotAuthorizedException")
	e.signUp("ann@example.com") // the address is free again
}
