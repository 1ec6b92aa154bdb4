package cognito

import (
	"context"

	"github.com/confab-chat/confab/auth"
)

// The operations in this file confirm accounts, reset passwords and change
// the signed-in user's own account (protocols.md §4.3).

// clientUserInput names the client and a user, as every code operation
// does.
type clientUserInput struct {
	ClientID   string `json:"ClientId"`
	Username   string `json:"Username"`
	SecretHash string `json:"SecretHash"`
}

func (h *Handler) checkClientUser(in clientUserInput) error {
	if err := h.checkClient(in.ClientID); err != nil {
		return err
	}
	return h.checkSecretHash(in.Username, in.SecretHash)
}

func (h *Handler) confirmSignUp(ctx context.Context, r *request) (any, error) {
	var in struct {
		clientUserInput
		ConfirmationCode string `json:"ConfirmationCode"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.checkClientUser(in.clientUserInput); err != nil {
		return nil, err
	}
	return nil, h.accounts.ConfirmSignUp(ctx, in.Username, in.ConfirmationCode)
}

func (h *Handler) resendConfirmationCode(ctx context.Context, r *request) (any, error) {
	var in clientUserInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.checkClientUser(in); err != nil {
		return nil, err
	}
	dest, err := h.accounts.ResendConfirmationCode(ctx, in.Username)
	if err != nil {
		return nil, err
	}
	return map[string]any{"CodeDeliveryDetails": deliveryDetails(dest)}, nil
}

func (h *Handler) forgotPassword(ctx context.Context, r *request) (any, error) {
	var in clientUserInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.checkClientUser(in); err != nil {
		return nil, err
	}
	dest, err := h.accounts.ForgotPassword(ctx, in.Username)
	if err != nil {
		return nil, err
	}
	return map[string]any{"CodeDeliveryDetails": deliveryDetails(dest)}, nil
}

func (h *Handler) confirmForgotPassword(ctx context.Context, r *request) (any, error) {
	var in struct {
		clientUserInput
		ConfirmationCode string `json:"ConfirmationCode"`
		Password         string `json:"Password"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := h.checkClientUser(in.clientUserInput); err != nil {
		return nil, err
	}
	return nil, h.accounts.ConfirmForgotPassword(ctx, in.Username, in.ConfirmationCode, in.Password)
}

func (h *Handler) changePassword(ctx context.Context, r *request) (any, error) {
	var in struct {
		AccessToken      string `json:"AccessToken"`
		PreviousPassword string `json:"PreviousPassword"`
		ProposedPassword string `json:"ProposedPassword"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.accounts.ChangePassword(ctx, in.AccessToken, in.PreviousPassword, in.ProposedPassword, r.clientAddr)
}

func (h *Handler) updateUserAttributes(ctx context.Context, r *request) (any, error) {
	var in struct {
		AccessToken    string      `json:"AccessToken"`
		UserAttributes []attribute `json:"UserAttributes"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	var up auth.AttributesUpdate
	for _, a := range in.UserAttributes {
		v := a.Value
		switch a.Name {
		case "name":
			up.DisplayName = &v
		case "picture":
			up.AvatarURL = &v
		case "email":
			up.Email = &v
		case "email_verified":
			// Addresses are taken as verified; nothing to change.
		default:
			return nil, errorf("InvalidParameterException", "Attribute "+clip(a.Name)+" cannot be changed: use name, picture or email.")
		}
	}
	if err := h.accounts.UpdateAttributes(ctx, in.AccessToken, up); err != nil {
		return nil, err
	}
	return map[string]any{"CodeDeliveryDetailsList": []any{}}, nil
}

func (h *Handler) deleteUser(ctx context.Context, r *request) (any, error) {
	var in accessTokenInput
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	return nil, h.accounts.DeleteUser(ctx, in.AccessToken)
}
