package cognito

import (
	"context"
	"strings"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
)

// operations is the table of every operation served.
func (h *Handler) operations() map[string]operation {
	user := func(f func(context.Context, *request) (any, error)) operation { return operation{run: f} }
	admin := func(f func(context.Context, *request) (any, error)) operation { return operation{admin: true, run: f} }
	return map[string]operation{
		"SignUp":                    user(h.signUp),
		"InitiateAuth":              user(h.initiateAuth),
		"RespondToAuthChallenge":    user(h.respondToAuthChallenge),
		"GetTokensFromRefreshToken": user(h.getTokensFromRefreshToken),
		"GetUser":                   user(h.getUser),
		"GlobalSignOut":             user(h.globalSignOut),
		"RevokeToken":               user(h.revokeToken),
		"ConfirmSignUp":             user(h.confirmSignUp),
		"ResendConfirmationCode":    user(h.resendConfirmationCode),
		"ForgotPassword":            user(h.forgotPassword),
		"ConfirmForgotPassword":     user(h.confirmForgotPassword),
		"ChangePassword":            user(h.changePassword),
		"UpdateUserAttributes":      user(h.updateUserAttributes),
		"DeleteUser":                user(h.deleteUser),

		"AdminCreateUser":        admin(h.adminCreateUser),
		"AdminSetUserPassword":   admin(h.adminSetUserPassword),
		"AdminGetUser":           admin(h.adminGetUser),
		"AdminDeleteUser":        admin(h.adminUserOp(h.accounts.DeleteAccount)),
		"AdminDisableUser":       admin(h.adminUserOp(func(ctx context.Context, login string) error { return h.accounts.SetDisabled(ctx, login, true) })),
		"AdminEnableUser":        admin(h.adminUserOp(func(ctx context.Context, login string) error { return h.accounts.SetDisabled(ctx, login, false) })),
		"AdminUserGlobalSignOut": admin(h.adminUserOp(h.accounts.SignOutAccount)),
		"ListUsers":              admin(h.listUsers),
		"DescribeUserPool":       admin(h.describeUserPool),
		"DescribeUserPoolClient": admin(h.describeUserPoolClient),
	}
}

// attribute is a user attribute as Cognito lists them.
type attribute struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// attributeValue returns the value of the named attribute, "" if absent.
func attributeValue(attrs []attribute, name string) string {
	for _, a := range attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

// userAttributes lists a user's attributes the way GetUser and
// AdminGetUser answer them.
func userAttributes(u *confab.User) []attribute {
	attrs := []attribute{{"sub", u.UserID}, {"email", u.Email}, {"email_verified", "true"}, {"preferred_username", u.Username}}
	if u.DisplayName != nil {
		attrs = append(attrs, attribute{"name", *u.DisplayName})
	}
	if u.AvatarURL != nil {
		attrs = append(attrs, attribute{"picture", *u.AvatarURL})
	}
	return attrs
}

// authenticationResult is Cognito's AuthenticationResult.
type authenticationResult struct {
	AccessToken  string `json:"AccessToken"`
	IDToken      string `json:"IdToken"`
	RefreshToken string `json:"RefreshToken,omitempty"`
	ExpiresIn    int    `json:"ExpiresIn"`
	TokenType    string `json:"TokenType"`
}

func resultOf(t *auth.Tokens) *authenticationResult {
	return &authenticationResult{AccessToken: t.AccessToken, IDToken: t.IDToken, RefreshToken: t.RefreshToken, ExpiresIn: t.ExpiresIn, TokenType: t.TokenType}
}

// signInResponse is the answer of InitiateAuth and RespondToAuthChallenge:
// tokens, or a challenge. ChallengeParameters is always present (Amplify
// reads it).
type signInResponse struct {
	AuthenticationResult *authenticationResult `json:"AuthenticationResult,omitempty"`
	ChallengeName        string                `json:"ChallengeName,omitempty"`
	Session              string                `json:"Session,omitempty"`
	ChallengeParameters  map[string]string     `json:"ChallengeParameters"`
}

func signInAnswer(r *auth.SignInResult) *signInResponse {
	if r.Tokens != nil {
		return &signInResponse{AuthenticationResult: resultOf(r.Tokens), ChallengeParameters: map[string]string{}}
	}
	params := r.Parameters
	if params == nil {
		params = map[string]string{}
	}
	return &signInResponse{ChallengeName: r.Challenge, Session: r.Session, ChallengeParameters: params}
}

func (h *Handler) signUp(ctx context.Context, r *request) (any, error) {
	var in struct {
		ClientID       string      `json:"ClientId"`
		Username       string      `json:"Username"`
		Password       string      `json:"Password"`
		SecretHash     string      `json:"SecretHash"`
		UserAttributes []attribute `json:"UserAttributes"`
		// ClientMetadata is what Cognito hands a pool's pre sign-up
		// trigger; its "invitation" entry carries the invitation token a
		// workspace with the sign-up policy "invitation" asks for.
		ClientMetadata map[string]string `json:"ClientMetadata"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.checkClient(in.ClientID); err != nil {
		return nil, err
	}
	if err := h.checkSecretHash(in.Username, in.SecretHash); err != nil {
		return nil, err
	}
	email := attributeValue(in.UserAttributes, "email")
	username := in.Username
	if email == "" && strings.Contains(in.Username, "@") {
		email = in.Username // a pool whose username is the email (the recipe's)
	}
	if strings.EqualFold(username, email) {
		username = ""
	}
	u, confirmed, err := h.accounts.Register(ctx, auth.SignUpInput{
		Email: email, Password: in.Password, Username: username, DisplayName: attributeValue(in.UserAttributes, "name"),
		Invitation: in.ClientMetadata["invitation"],
	}, r.clientAddr)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"UserConfirmed": confirmed, "UserSub": u.UserID}
	if !confirmed {
		out["CodeDeliveryDetails"] = deliveryDetails(auth.MaskEmail(u.Email))
	}
	return out, nil
}

// deliveryDetails is Cognito's CodeDeliveryDetails for a masked address.
func deliveryDetails(destination string) map[string]string {
	return map[string]string{"Destination": destination, "DeliveryMedium": "EMAIL", "AttributeName": "email"}
}

func (h *Handler) initiateAuth(ctx context.Context, r *request) (any, error) {
	var in struct {
		AuthFlow       string            `json:"AuthFlow"`
		AuthParameters map[string]string `json:"AuthParameters"`
		ClientID       string            `json:"ClientId"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.checkClient(in.ClientID); err != nil {
		return nil, err
	}
	p := in.AuthParameters
	switch in.AuthFlow {
	case "USER_PASSWORD_AUTH":
		if err := h.checkSecretHash(p["USERNAME"], p["SECRET_HASH"]); err != nil {
			return nil, err
		}
		res, err := h.accounts.SignIn(ctx, p["USERNAME"], p["PASSWORD"], r.clientAddr)
		if err != nil {
			return nil, err
		}
		return signInAnswer(res), nil
	case "USER_SRP_AUTH":
		if err := h.checkSecretHash(p["USERNAME"], p["SECRET_HASH"]); err != nil {
			return nil, err
		}
		res, err := h.accounts.StartSRP(ctx, p["USERNAME"], p["SRP_A"], r.clientAddr)
		if err != nil {
			return nil, err
		}
		return signInAnswer(res), nil
	case "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN":
		if err := h.checkRefreshSecretHash(ctx, p["REFRESH_TOKEN"], p["SECRET_HASH"]); err != nil {
			return nil, err
		}
		t, err := h.accounts.RefreshKeep(ctx, p["REFRESH_TOKEN"], r.clientAddr)
		if err != nil {
			return nil, err
		}
		return signInAnswer(&auth.SignInResult{Tokens: t}), nil
	case "":
		return nil, errorf("InvalidParameterException", "AuthFlow is required.")
	}
	return nil, errorf("InvalidParameterException", "Auth flow "+clip(in.AuthFlow)+" is not supported: use USER_SRP_AUTH, USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH.")
}

// checkRefreshSecretHash enforces SECRET_HASH on REFRESH_TOKEN_AUTH when
// the client has a secret. Clients compute it with the user's sub (the
// internal username of an email pool) or username; either is accepted.
func (h *Handler) checkRefreshSecretHash(ctx context.Context, refreshToken, secretHash string) error {
	if h.cfg.ClientSecret == "" {
		return nil
	}
	u, err := h.accounts.RefreshTokenOwner(ctx, refreshToken)
	if err != nil {
		return err
	}
	if h.checkSecretHash(u.UserID, secretHash) == nil {
		return nil
	}
	return h.checkSecretHash(u.Username, secretHash)
}

func (h *Handler) respondToAuthChallenge(ctx context.Context, r *request) (any, error) {
	var in struct {
		ChallengeName      string            `json:"ChallengeName"`
		ClientID           string            `json:"ClientId"`
		ChallengeResponses map[string]string `json:"ChallengeResponses"`
		Session            string            `json:"Session"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.checkClient(in.ClientID); err != nil {
		return nil, err
	}
	c := in.ChallengeResponses
	if err := h.checkSecretHash(c["USERNAME"], c["SECRET_HASH"]); err != nil {
		return nil, err
	}
	var res *auth.SignInResult
	var err error
	switch in.ChallengeName {
	case auth.ChallengePasswordVerifier:
		res, err = h.accounts.RespondSRP(ctx, auth.SRPAnswer{
			UserID: c["USERNAME"], SecretBlock: c["PASSWORD_CLAIM_SECRET_BLOCK"],
			Timestamp: c["TIMESTAMP"], Signature: c["PASSWORD_CLAIM_SIGNATURE"],
		}, r.clientAddr)
	case auth.ChallengeNewPassword:
		res, err = h.accounts.RespondNewPassword(ctx, in.Session, c["USERNAME"], c["NEW_PASSWORD"])
	default:
		return nil, errorf("InvalidParameterException", "Challenge "+clip(in.ChallengeName)+" is not supported.")
	}
	if err != nil {
		return nil, err
	}
	return signInAnswer(res), nil
}

func (h *Handler) getTokensFromRefreshToken(ctx context.Context, r *request) (any, error) {
	var in struct {
		ClientID     string `json:"ClientId"`
		RefreshToken string `json:"RefreshToken"`
		ClientSecret string `json:"ClientSecret"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.checkClient(in.ClientID); err != nil {
		return nil, err
	}
	if err := h.checkClientSecret(in.ClientSecret); err != nil {
		return nil, err
	}
	t, err := h.accounts.Refresh(ctx, in.RefreshToken, r.clientAddr)
	if err != nil {
		return nil, err
	}
	return map[string]any{"AuthenticationResult": resultOf(t)}, nil
}

// accessTokenInput is the input of the operations a user calls with their
// own access token.
type accessTokenInput struct {
	AccessToken string `json:"AccessToken"`
}

func (h *Handler) getUser(ctx context.Context, r *request) (any, error) {
	var in accessTokenInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	u, err := h.accounts.CurrentUser(ctx, in.AccessToken)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Username": u.Username, "UserAttributes": userAttributes(u)}, nil
}

func (h *Handler) globalSignOut(ctx context.Context, r *request) (any, error) {
	var in accessTokenInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.accounts.GlobalSignOut(ctx, in.AccessToken)
}

func (h *Handler) revokeToken(ctx context.Context, r *request) (any, error) {
	var in struct {
		ClientID     string `json:"ClientId"`
		Token        string `json:"Token"`
		ClientSecret string `json:"ClientSecret"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.checkClient(in.ClientID); err != nil {
		return nil, err
	}
	if err := h.checkClientSecret(in.ClientSecret); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, errorf("InvalidParameterException", "Token is required.")
	}
	return nil, h.accounts.Logout(ctx, in.Token)
}
