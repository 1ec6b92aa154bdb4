package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

// An invitation is a link that lets one person sign up in a workspace whose
// sign-up policy is confab.SignupInvitation. Its token is
//
//	base64url(payload) "." base64url(HMAC-SHA256(key, invitationDomain || payload))
//
// with payload the JSON {"w": workspace id ("" the default), "exp": expiry
// in Unix seconds, "e": the e-mail address it is bound to, or absent}.
// Nothing is stored: the token proves itself, so an invitation cannot be
// withdrawn before it expires except by changing the key (the signing key
// file, from which cmd/confab derives it). The key is shared by every
// workspace; the workspace id inside the MAC keeps a token of one
// workspace from opening another.

// invitationDomain separates these MACs from any other use of the key.
const invitationDomain = "confab invitation v1\x00"

// maxInvitationBytes bounds the token a sign-up carries: payloads are
// small, and a longer one is refused before it is decoded.
const maxInvitationBytes = 1024

type invitationPayload struct {
	Workspace string `json:"w"`
	Expiry    int64  `json:"exp"`
	Email     string `json:"e,omitempty"`
}

// NewInvitation returns an invitation token to workspace (its id, "" for
// the default workspace), valid until now+ttl (whole seconds, rounded
// up), for anyone who has it or, when email is not empty, only for a
// sign-up with that address (compared case-insensitively).
func NewInvitation(key []byte, workspace, email string, ttl time.Duration, now time.Time) string {
	p := invitationPayload{
		Workspace: workspace,
		Expiry:    now.Add(ttl + time.Second - 1).Unix(),
		Email:     strings.ToLower(strings.TrimSpace(email)),
	}
	payload, err := json.Marshal(p)
	if err != nil {
		panic("auth: marshal invitation: " + err.Error()) // three plain fields always marshal
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(invitationMAC(key, payload))
}

func invitationMAC(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(invitationDomain))
	m.Write(payload)
	return m.Sum(nil)
}

// The refusals of VerifyInvitation. They are CodeForbidden, so the web
// client and Cognito clients show them as a refused sign-up (like a wrong
// password: NotAuthorized); the message says what to do.
var (
	errNoInvitation      = confab.Errorf(confab.CodeForbidden, "Sign-up in this workspace is by invitation only. Open the invitation link you were sent.")
	errBadInvitation     = confab.Errorf(confab.CodeForbidden, "This invitation is not valid. Ask for a new invitation link.")
	errExpiredInvitation = confab.Errorf(confab.CodeForbidden, "This invitation has expired. Ask for a new invitation link.")
	errOtherWorkspace    = confab.Errorf(confab.CodeForbidden, "This invitation is for another workspace. Open the invitation link you were sent as it is.")
	errOtherEmail        = confab.Errorf(confab.CodeForbidden, "This invitation is for another e-mail address. Sign up with the address it was sent to.")
)

// VerifyInvitation checks an invitation token for a sign-up in workspace
// ("" the default) with email at now: it must carry a valid MAC under key
// (checked in constant time before anything in it is believed), name this
// workspace, not have expired, and, when bound to an address, name email.
// Each refusal is CodeForbidden with its own message; nil means admitted.
func VerifyInvitation(key []byte, token, workspace, email string, now time.Time) error {
	token = strings.TrimSpace(token)
	if token == "" {
		return errNoInvitation
	}
	if len(token) > maxInvitationBytes || len(key) == 0 {
		return errBadInvitation
	}
	enc := base64.RawURLEncoding
	p64, m64, ok := strings.Cut(token, ".")
	if !ok {
		return errBadInvitation
	}
	payload, err1 := enc.DecodeString(p64)
	mac, err2 := enc.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, invitationMAC(key, payload)) {
		return errBadInvitation
	}
	var p invitationPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return errBadInvitation // a MAC of ours over something we never wrote
	}
	if p.Workspace != workspace {
		return errOtherWorkspace
	}
	if !now.Before(time.Unix(p.Expiry, 0)) {
		return errExpiredInvitation
	}
	if p.Email != "" && p.Email != strings.ToLower(strings.TrimSpace(email)) {
		return errOtherEmail
	}
	return nil
}
