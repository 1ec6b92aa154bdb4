package cognito

import (
	"context"
	"encoding/base64"
	"regexp"
	"strings"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
)

// adminUser is the User of AdminCreateUser and ListUsers.
type adminUser struct {
	Username             string      `json:"Username"`
	Attributes           []attribute `json:"Attributes"`
	UserCreateDate       float64     `json:"UserCreateDate"`
	UserLastModifiedDate float64     `json:"UserLastModifiedDate"`
	Enabled              bool        `json:"Enabled"`
	UserStatus           string      `json:"UserStatus"`
}

// userStatus is Cognito's UserStatus of an account.
func userStatus(c *confab.Credentials) string {
	switch {
	case c.Unconfirmed:
		return "UNCONFIRMED"
	case c.PasswordTemporary:
		return "FORCE_CHANGE_PASSWORD"
	}
	return "CONFIRMED"
}

// epoch is a time as the AWS JSON protocols send timestamps: seconds.
func epoch(u *confab.User, modified bool) float64 {
	t := u.CreatedAt
	if modified && u.UpdatedAt != nil {
		t = *u.UpdatedAt
	}
	return float64(t.UnixMilli()) / 1000
}

func adminUserOf(u *confab.User, c *confab.Credentials) adminUser {
	return adminUser{Username: u.Username, Attributes: userAttributes(u), UserCreateDate: epoch(u, false),
		UserLastModifiedDate: epoch(u, true), Enabled: !c.Disabled, UserStatus: userStatus(c)}
}

// poolInput is what every admin operation names: the pool and a user.
type poolInput struct {
	UserPoolID string `json:"UserPoolId"`
	Username   string `json:"Username"`
}

func (h *Handler) checkPool(id string) error {
	if id != h.cfg.UserPoolID {
		return errorf("ResourceNotFoundException", "User pool "+clip(id)+" does not exist.")
	}
	return nil
}

// decodePool decodes an admin request into v (which embeds poolInput) and
// checks its pool.
func (h *Handler) decodePool(r *request, v interface{ pool() *poolInput }) error {
	if err := r.decode(v); err != nil {
		return err
	}
	return h.checkPool(v.pool().UserPoolID)
}

func (p *poolInput) pool() *poolInput { return p }

func (h *Handler) adminCreateUser(ctx context.Context, r *request) (any, error) {
	var in struct {
		poolInput
		UserAttributes    []attribute `json:"UserAttributes"`
		TemporaryPassword string      `json:"TemporaryPassword"`
		MessageAction     string      `json:"MessageAction"`
	}
	if err := h.decodePool(r, &in); err != nil {
		return nil, err
	}
	if in.MessageAction == "RESEND" {
		return nil, errorf("InvalidParameterException", "MessageAction RESEND is not supported; set a new temporary password with AdminSetUserPassword.")
	}
	email := attributeValue(in.UserAttributes, "email")
	username := in.Username
	if email == "" && strings.Contains(username, "@") {
		email = username
	}
	if strings.EqualFold(username, email) {
		username = ""
	}
	u, err := h.accounts.CreateUser(ctx, auth.CreateUserInput{Email: email, Username: username, DisplayName: attributeValue(in.UserAttributes, "name"),
		TemporaryPassword: in.TemporaryPassword, Suppress: in.MessageAction == "SUPPRESS"})
	if err != nil {
		return nil, err
	}
	return map[string]any{"User": adminUserOf(u, &confab.Credentials{PasswordTemporary: true})}, nil
}

func (h *Handler) adminSetUserPassword(ctx context.Context, r *request) (any, error) {
	var in struct {
		poolInput
		Password  string `json:"Password"`
		Permanent bool   `json:"Permanent"`
	}
	if err := h.decodePool(r, &in); err != nil {
		return nil, err
	}
	return nil, h.accounts.SetPassword(ctx, in.Username, in.Password, in.Permanent)
}

func (h *Handler) adminGetUser(ctx context.Context, r *request) (any, error) {
	var in poolInput
	if err := h.decodePool(r, &in); err != nil {
		return nil, err
	}
	u, c, err := h.accounts.Account(ctx, in.Username)
	if err != nil {
		return nil, err
	}
	a := adminUserOf(u, c)
	return map[string]any{"Username": a.Username, "UserAttributes": a.Attributes, "UserCreateDate": a.UserCreateDate,
		"UserLastModifiedDate": a.UserLastModifiedDate, "Enabled": a.Enabled, "UserStatus": a.UserStatus}, nil
}

func (h *Handler) adminUserOp(f func(ctx context.Context, login string) error) func(context.Context, *request) (any, error) {
	return func(ctx context.Context, r *request) (any, error) {
		var in poolInput
		if err := h.decodePool(r, &in); err != nil {
			return nil, err
		}
		return nil, f(ctx, in.Username)
	}
}

// filterRE is ListUsers' Filter: `attribute = "value"` or `attribute ^=
// "value"` (a prefix).
var filterRE = regexp.MustCompile(`^\s*([a-z_:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$`)

// filterFields maps the filterable attributes to account fields.
var filterFields = map[string]string{"email": "email", "username": "username", "sub": "user_id", "preferred_username": "username"}

func (h *Handler) listUsers(ctx context.Context, r *request) (any, error) {
	var in struct {
		UserPoolID      string `json:"UserPoolId"`
		Filter          string `json:"Filter"`
		Limit           int    `json:"Limit"`
		PaginationToken string `json:"PaginationToken"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.checkPool(in.UserPoolID); err != nil {
		return nil, err
	}
	f := confab.AccountFilter{Limit: in.Limit}
	if f.Limit == 0 {
		f.Limit = 60 // Cognito's maximum page
	}
	if f.Limit < 1 || f.Limit > 60 {
		return nil, errorf("InvalidParameterException", "Limit must be between 1 and 60.")
	}
	if in.Filter != "" {
		m := filterRE.FindStringSubmatch(in.Filter)
		if m == nil {
			return nil, errorf("InvalidParameterException", `Filter must read attribute = "value" or attribute ^= "value".`)
		}
		field, ok := filterFields[m[1]]
		if !ok {
			return nil, errorf("InvalidParameterException", "Users cannot be filtered on "+m[1]+": use email, username, preferred_username or sub.")
		}
		f.Field, f.Prefix, f.Value = field, m[2] == "^=", strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(m[3])
	}
	if in.PaginationToken != "" {
		after, err := base64.RawURLEncoding.DecodeString(in.PaginationToken)
		if err != nil {
			return nil, errorf("InvalidParameterException", "PaginationToken is not one this server issued.")
		}
		f.After = string(after)
	}
	users, creds, err := h.accounts.ListAccounts(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]adminUser, len(users))
	for i := range users {
		out[i] = adminUserOf(users[i], creds[i])
	}
	res := map[string]any{"Users": out}
	if len(users) == f.Limit {
		res["PaginationToken"] = base64.RawURLEncoding.EncodeToString([]byte(users[len(users)-1].UserID))
	}
	return res, nil
}

func (h *Handler) describeUserPool(ctx context.Context, r *request) (any, error) {
	var in struct {
		UserPoolID string `json:"UserPoolId"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.checkPool(in.UserPoolID); err != nil {
		return nil, err
	}
	_, name, _ := strings.Cut(h.cfg.UserPoolID, "_")
	return map[string]any{"UserPool": map[string]any{
		"Id": h.cfg.UserPoolID, "Name": name, "Status": "Enabled",
		"UsernameAttributes": []string{"email"}, "AutoVerifiedAttributes": []string{"email"},
		"MfaConfiguration": "OFF",
	}}, nil
}

func (h *Handler) describeUserPoolClient(ctx context.Context, r *request) (any, error) {
	var in struct {
		UserPoolID string `json:"UserPoolId"`
		ClientID   string `json:"ClientId"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.checkPool(in.UserPoolID); err != nil {
		return nil, err
	}
	if err := h.checkClient(in.ClientID); err != nil {
		return nil, err
	}
	flows := []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
	if h.accounts.SRPEnabled() {
		flows = append(flows, "ALLOW_USER_SRP_AUTH")
	}
	client := map[string]any{"UserPoolId": h.cfg.UserPoolID, "ClientId": h.cfg.ClientID, "ClientName": h.cfg.ClientID,
		"ExplicitAuthFlows": flows, "EnableTokenRevocation": true, "PreventUserExistenceErrors": "ENABLED"}
	if h.cfg.ClientSecret != "" {
		client["ClientSecret"] = h.cfg.ClientSecret
	}
	return map[string]any{"UserPoolClient": client}, nil
}
