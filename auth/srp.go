package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth/srp"
	"github.com/google/uuid"
)

// srpPool is the SRP pool name: the part of the user pool id after "_".
func (s *Service) srpPool() string {
	_, pool, _ := strings.Cut(s.cfg.UserPoolID, "_")
	return pool
}

// srpVerifier computes a new verifier of password for the user; the user
// id is the USER_ID_FOR_SRP the server sends, so it never changes.
func (s *Service) srpVerifier(userID, password string) *confab.SRPVerifier {
	salt, v := srp.Verifier(s.srpPool(), userID, password)
	return &confab.SRPVerifier{Salt: salt, Verifier: v}
}

// srpSecret is the sealed SECRET_BLOCK: the server's half of one SRP
// exchange, so no state is kept between the two steps.
type srpSecret struct {
	UserID string `json:"u"`
	A      string `json:"A"`
	B      string `json:"B"`
	Secret string `json:"b"`
}

// srpTimestampSkew bounds how far the client's TIMESTAMP may be from now.
const srpTimestampSkew = 5 * time.Minute

var errSRPOff = reasonError(confab.CodeInvalid, ReasonSRPUnavailable, "USER_SRP_AUTH is not enabled for this client.")

// StartSRP is the first step of USER_SRP_AUTH: login names the account,
// srpA is the client's public value (hex). It returns the
// PASSWORD_VERIFIER challenge (protocols.md §4.6). An unknown login, a
// disabled account or one without a verifier yet (it gets one at its next
// password sign-in) gets a challenge too, with a verifier that no password
// matches, so the answer reveals nothing; the failure comes at the second
// step. Attempts count against the client address like password sign-ins.
func (s *Service) StartSRP(ctx context.Context, login, srpA, clientAddr string) (*SignInResult, error) {
	if !s.SRPEnabled() {
		return nil, errSRPOff
	}
	login = strings.TrimSpace(login)
	A, err := srp.ParseHex(srpA)
	if login == "" || err != nil {
		return nil, confab.Errorf(confab.CodeInvalid, "USERNAME and a hexadecimal SRP_A are required.")
	}
	if err := s.allowAttempt(clientAddr); err != nil {
		return nil, err
	}
	a, err := s.lookup(ctx, login)
	if err != nil {
		return nil, err
	}
	userID, v := s.decoyFor(login), (*confab.SRPVerifier)(nil)
	if a != nil {
		userID = a.User.UserID
		cred, err := s.store.GetCredentials(ctx, userID)
		if err != nil {
			return nil, err
		}
		v = cred.SRP
	}
	if v == nil {
		v = s.decoyVerifier(userID)
	}
	vInt, err := srp.ParseHex(v.Verifier)
	if err != nil {
		return nil, err
	}
	b, B, err := srp.Challenge(A, vInt)
	if err != nil {
		return nil, confab.Errorf(confab.CodeInvalid, "SRP_A is not a valid value.")
	}
	block := s.seal(ChallengePasswordVerifier, sessionTTL, srpSecret{UserID: userID, A: A.Text(16), B: B.Text(16), Secret: b.Text(16)})
	return &SignInResult{
		Challenge: ChallengePasswordVerifier,
		Parameters: map[string]string{
			"SALT": v.Salt, "SRP_B": B.Text(16), "SECRET_BLOCK": block,
			"USERNAME": userID, "USER_ID_FOR_SRP": userID,
		},
		UserID: userID,
	}, nil
}

// decoyFor returns a stable user id for an unknown login, so that asking
// twice gives the same USER_ID_FOR_SRP, as for a real account.
func (s *Service) decoyFor(login string) string {
	m := hmac.New(sha256.New, s.sealKey)
	m.Write([]byte("decoy user\x00" + strings.ToLower(login)))
	sum := m.Sum(nil)
	sum[6] = sum[6]&0x0f | 0x40 // a version-4 UUID in form
	sum[8] = sum[8]&0x3f | 0x80
	return uuid.UUID(sum[:16]).String()
}

// decoyVerifier is a verifier of an unguessable secret, with a salt stable
// per user id, for accounts that cannot sign in with SRP.
func (s *Service) decoyVerifier(userID string) *confab.SRPVerifier {
	m := hmac.New(sha256.New, s.sealKey)
	m.Write([]byte("decoy verifier\x00" + userID))
	sum := m.Sum(nil)
	return &confab.SRPVerifier{Salt: new(big.Int).SetBytes(sum[:16]).Text(16), Verifier: new(big.Int).SetBytes(sum).Text(16)}
}

// SRPAnswer is the client's PASSWORD_VERIFIER answer.
type SRPAnswer struct {
	UserID      string // USERNAME: the USER_ID_FOR_SRP of the challenge
	SecretBlock string // PASSWORD_CLAIM_SECRET_BLOCK
	Timestamp   string // TIMESTAMP, "Mon Jan 2 15:04:05 UTC 2006"
	Signature   string // PASSWORD_CLAIM_SIGNATURE, base64
}

// RespondSRP checks the PASSWORD_VERIFIER answer and finishes the sign-in
// like SignIn (tokens, or NEW_PASSWORD_REQUIRED). A wrong signature counts
// as a failed sign-in of the account.
func (s *Service) RespondSRP(ctx context.Context, in SRPAnswer, clientAddr string) (*SignInResult, error) {
	if !s.SRPEnabled() {
		return nil, errSRPOff
	}
	var sec srpSecret
	if !s.open(ChallengePasswordVerifier, in.SecretBlock, &sec) {
		return nil, errBadSession
	}
	keys := newSignInKeys("acct:"+sec.UserID, clientAddr)
	if err := s.lockedOut(keys); err != nil {
		return nil, err
	}
	ok, err := s.srpProof(ctx, sec, in)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.failed(keys, clientAddr)
		return nil, errBadLogin
	}
	cred, err := s.store.GetCredentials(ctx, sec.UserID)
	if err != nil {
		return nil, err
	}
	if cred.Disabled {
		lifted, err := s.liftExpiredBan(ctx, sec.UserID)
		if err != nil {
			return nil, err
		}
		if !lifted {
			return nil, errBadLogin
		}
		cred.Disabled = false
	}
	s.succeeded(keys)
	if cred.Unconfirmed {
		return nil, errNotConfirmed
	}
	u, err := s.store.GetUser(ctx, sec.UserID)
	if err != nil {
		return nil, err
	}
	return s.finishSignIn(ctx, u, cred)
}

// srpProof reports whether the answer proves the password of the account
// the secret block was issued for.
func (s *Service) srpProof(ctx context.Context, sec srpSecret, in SRPAnswer) (bool, error) {
	if in.UserID != sec.UserID || !s.timestampFresh(in.Timestamp) {
		return false, nil
	}
	cred, err := s.store.GetCredentials(ctx, sec.UserID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return false, nil // a decoy challenge, or the account is gone
	}
	if err != nil {
		return false, err
	}
	if cred.SRP == nil {
		return false, nil
	}
	v, errV := srp.ParseHex(cred.SRP.Verifier)
	A, errA := srp.ParseHex(sec.A)
	B, errB := srp.ParseHex(sec.B)
	b, errb := srp.ParseHex(sec.Secret)
	if errV != nil || errA != nil || errB != nil || errb != nil {
		return false, nil
	}
	key, err := srp.Key(A, B, b, v)
	if err != nil {
		return false, nil
	}
	block, err := base64.StdEncoding.DecodeString(in.SecretBlock)
	sig, errS := base64.StdEncoding.DecodeString(in.Signature)
	if err != nil || errS != nil {
		return false, nil
	}
	return hmac.Equal(sig, srp.Signature(key, s.srpPool(), sec.UserID, block, in.Timestamp)), nil
}

// timestampFresh parses the client's TIMESTAMP (day of month not padded)
// and checks it is within srpTimestampSkew of now.
func (s *Service) timestampFresh(ts string) bool {
	t, err := time.Parse("Mon Jan 2 15:04:05 MST 2006", ts)
	if err != nil {
		return false
	}
	d := s.now().Sub(t)
	return d < srpTimestampSkew && d > -srpTimestampSkew
}

// userAttributesJSON is the userAttributes parameter of
// NEW_PASSWORD_REQUIRED: the user's attributes as a JSON object.
func userAttributesJSON(u *confab.User) string {
	attrs := map[string]string{"email": u.Email, "email_verified": "true"}
	if u.DisplayName != nil {
		attrs["name"] = *u.DisplayName
	}
	b, _ := json.Marshal(attrs) // a map of strings always marshals
	return string(b)
}
