package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// minKeyBits is the smallest RSA key accepted from a key file.
const minKeyBits = 2048

// loadOrCreateKey reads an RSA key from a PEM file, creating a 2048-bit
// key (mode 0600) when the file does not exist. Creation is atomic: the key
// is written to a temporary file and linked into place, so of two processes
// starting at once on one data directory, one key wins and both use it.
func loadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return createKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: read key: %w", err)
	}
	return parseKey(path, b)
}

func parseKey(path string, b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("auth: %s is not a PEM file", path)
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		key = k
	} else {
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("auth: parse key %s: %w", path, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("auth: %s is not an RSA key", path)
		}
		key = rk
	}
	if key.N.BitLen() < minKeyBits {
		return nil, fmt.Errorf("auth: %s holds a %d-bit RSA key; at least %d bits are required", path, key.N.BitLen(), minKeyBits)
	}
	return key, nil
}

func createKey(path string) (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, minKeyBits)
	if err != nil {
		return nil, fmt.Errorf("auth: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("auth: encode key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: key directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".jwt-key-*.tmp") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("auth: write key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the link (or a failure) the temporary name goes
	_, err = f.Write(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("auth: write key: %w", err)
	}
	if err := os.Link(tmp, path); errors.Is(err, os.ErrExist) {
		return loadOrCreateKey(path) // another process won the race: use its key
	} else if err != nil {
		return nil, fmt.Errorf("auth: write key: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		// Make the new name durable; a failure here only risks a new key
		// after a power loss, which signs everyone out once.
		_ = d.Sync()
		d.Close()
	}
	return key, nil
}

// keyID derives a stable kid from the public key.
func keyID(pub *rsa.PublicKey) string {
	sum := sha256.Sum256(x509.MarshalPKCS1PublicKey(pub))
	return hex.EncodeToString(sum[:8])
}

// claims is the union of Cognito's id and access token claims
// (protocols.md §4.1).
type claims struct {
	jwt.RegisteredClaims
	// Aud is the id token's audience, a single string as in Cognito's
	// tokens; it shadows RegisteredClaims.Audience, which the JWT library
	// would write as an array.
	Aud             string `json:"aud,omitempty"`
	TokenUse        string `json:"token_use"`
	Email           string `json:"email,omitempty"`
	EmailVerified   *bool  `json:"email_verified,omitempty"`
	CognitoUsername string `json:"cognito:username,omitempty"`
	Username        string `json:"username,omitempty"`
	ClientID        string `json:"client_id,omitempty"`
	Scope           string `json:"scope,omitempty"`
	AuthTime        int64  `json:"auth_time"`
	OriginJTI       string `json:"origin_jti,omitempty"`
	EventID         string `json:"event_id,omitempty"`
	// Workspace is the id of the workspace that issued the token, absent
	// for the default workspace.
	Workspace string `json:"custom:workspace,omitempty"`
}

func newJTI() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand documents it)
	return base64.RawURLEncoding.EncodeToString(b)
}

// issue signs an id token and an access token for u. origin is the
// refresh-token family they are minted from: it goes out as origin_jti, so
// revoking the family revokes them (protocols.md §4.1, §4.3 RevokeToken),
// and Amplify's signOut() calls RevokeToken only when it is present.
func (s *Service) issue(u *confab.User, authTime time.Time, origin string) (idToken, accessToken string, err error) {
	now := s.now()
	exp := jwt.NewNumericDate(now.Add(s.cfg.AccessTTL))
	event := uuid.NewString()
	verified := true
	id := claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: s.cfg.Issuer, Subject: u.UserID, ExpiresAt: exp, IssuedAt: jwt.NewNumericDate(now), ID: newJTI()},
		Aud:              s.cfg.ClientID, TokenUse: "id", Email: u.Email, EmailVerified: &verified, CognitoUsername: u.Username, AuthTime: authTime.Unix(), OriginJTI: origin, EventID: event,
		Workspace: s.cfg.Workspace.ID,
	}
	access := claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: s.cfg.Issuer, Subject: u.UserID, ExpiresAt: exp, IssuedAt: jwt.NewNumericDate(now), ID: newJTI()},
		TokenUse:         "access", ClientID: s.cfg.ClientID, Username: u.Username, Scope: "aws.cognito.signin.user.admin", AuthTime: authTime.Unix(), OriginJTI: origin, EventID: event,
		Workspace: s.cfg.Workspace.ID,
	}
	sign := func(c claims) (string, error) {
		t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		t.Header["kid"] = s.kid
		delete(t.Header, "typ") // Cognito's header is {kid, alg} only
		return t.SignedString(s.key)
	}
	if idToken, err = sign(id); err != nil {
		return "", "", fmt.Errorf("auth: sign id token: %w", err)
	}
	if accessToken, err = sign(access); err != nil {
		return "", "", fmt.Errorf("auth: sign access token: %w", err)
	}
	return idToken, accessToken, nil
}

// maxTokenBytes bounds a token before any parsing work.
const maxTokenBytes = 8 << 10

// Verify checks a token (raw or "Bearer <token>"): RS256 only, our kid,
// issuer, expiry, token_use id or access, audience or client_id, and that
// the sign-in it was minted from (origin_jti) is not revoked. Verified
// tokens are cached until they expire, so a request costs one hash and a
// map lookup instead of an RSA verification; a cached token's sign-in is
// looked up again after Config.RevocationCheck, so a sign-out on another
// node takes effect here within that time (on this node, at once). Any
// failure is CodeUnauthenticated with a short safe message, but for a
// store that cannot answer (CodeUnavailable).
func (s *Service) Verify(token string) (confab.Identity, error) {
	e, err := s.verify(token)
	return e.id, err
}

// VerifyAccess is Verify for access tokens only: the Cognito operations
// that act on the signed-in user take an access token (protocols.md §4.3).
func (s *Service) VerifyAccess(token string) (confab.Identity, error) {
	e, err := s.verify(token)
	if err == nil && e.use != "access" {
		return confab.Identity{}, errUnauthenticated("Invalid Access Token")
	}
	return e.id, err
}

func (s *Service) verify(token string) (cacheEntry, error) {
	token = strings.TrimSpace(token)
	if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	if token == "" || len(token) > maxTokenBytes {
		return cacheEntry{}, errUnauthenticated("Valid authorization header not provided.")
	}
	sum := tokenHash(token)
	now := s.now()
	if e, ok := s.cache.get(sum, now); ok {
		if now.Sub(e.checked) < s.cfg.RevocationCheck {
			return e, nil
		}
		if err := s.checkOrigin(e.origin); err != nil {
			s.cache.drop(func(c cacheEntry) bool { return c.origin == e.origin })
			return cacheEntry{}, err
		}
		e.checked = now
		s.cache.update(sum, e)
		return e, nil
	}
	e, err := s.parse(token)
	if err != nil {
		return cacheEntry{}, err
	}
	if err := s.checkOrigin(e.origin); err != nil {
		return cacheEntry{}, err
	}
	e.checked = now
	s.cache.put(sum, e)
	return e, nil
}

// parse checks a token's signature and claims.
func (s *Service) parse(token string) (cacheEntry, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != s.kid {
			return nil, errors.New("unknown kid")
		}
		return &s.key.PublicKey, nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(s.cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return cacheEntry{}, errUnauthenticated("Token has expired.")
	case err != nil:
		return cacheEntry{}, errUnauthenticated("Valid authorization header not provided.")
	}
	// The issuer already names the workspace; the claim must agree, so
	// that no configuration of issuers can let one workspace's token in
	// at another.
	if c.Workspace != s.cfg.Workspace.ID {
		return cacheEntry{}, errUnauthenticated("Valid authorization header not provided.")
	}
	id := confab.Identity{UserID: c.Subject, Email: c.Email, ExpiresAt: c.ExpiresAt.Time, Workspace: s.cfg.Workspace.ID}
	switch c.TokenUse {
	case "id":
		if c.Aud != s.cfg.ClientID {
			return cacheEntry{}, errUnauthenticated("Valid authorization header not provided.")
		}
		id.Username = c.CognitoUsername
	case "access":
		if c.ClientID != s.cfg.ClientID {
			return cacheEntry{}, errUnauthenticated("Valid authorization header not provided.")
		}
		id.Username = c.Username
	default:
		return cacheEntry{}, errUnauthenticated("Valid authorization header not provided.")
	}
	if id.UserID == "" || c.OriginJTI == "" {
		return cacheEntry{}, errUnauthenticated("Valid authorization header not provided.")
	}
	return cacheEntry{id: id, origin: c.OriginJTI, use: c.TokenUse}, nil
}

// revocationLookupTimeout bounds the store lookup of Verify, which has no
// context of its own.
const revocationLookupTimeout = 5 * time.Second

// checkOrigin refuses tokens whose refresh-token family (origin_jti) is
// revoked or unknown: every token confab issues is minted from a family.
func (s *Service) checkOrigin(origin string) error {
	ctx, cancel := context.WithTimeout(context.Background(), revocationLookupTimeout)
	defer cancel()
	f, err := s.store.GetRefreshFamily(ctx, origin)
	switch {
	case confab.ErrorCode(err) == confab.CodeNotFound:
		return errRevoked
	case err != nil:
		return &confab.Error{Code: confab.CodeUnavailable, Message: "The service is unavailable; retry.", Op: "auth.Verify", Err: err}
	case f.Revoked:
		return errRevoked
	}
	return nil
}

var errRevoked = reasonError(confab.CodeUnauthenticated, ReasonTokenRevoked, "Access Token has been revoked")

// tokenHash is the cache key of a token. Our tokens are about 1 KiB, so
// they are hashed through a stack buffer (converting the string would
// allocate on every request); longer ones are converted.
func tokenHash(token string) [32]byte {
	var buf [2 << 10]byte
	if len(token) <= len(buf) {
		return sha256.Sum256(buf[:copy(buf[:], token)])
	}
	return sha256.Sum256([]byte(token))
}

func errUnauthenticated(msg string) error {
	return confab.Errorf(confab.CodeUnauthenticated, "%s", msg)
}

// JWKS returns the JSON Web Key Set with the signing key's public half.
func (s *Service) JWKS() []byte {
	pub := s.key.PublicKey
	b64 := base64.RawURLEncoding
	doc := map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": s.kid,
		"n": b64.EncodeToString(pub.N.Bytes()),
		"e": b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}}
	b, _ := json.Marshal(doc) // maps of strings always marshal
	return b
}

// OpenIDConfiguration returns the discovery document. Its endpoints hang
// off the issuer when the issuer is an http(s) URL (--public-url), else
// (the default urn:confab:… issuer) off baseURL, the scheme and host the
// document was asked for on.
func (s *Service) OpenIDConfiguration(baseURL string) []byte {
	base := s.cfg.Issuer
	if !strings.HasPrefix(base, "https://") && !strings.HasPrefix(base, "http://") {
		base = strings.TrimSuffix(baseURL, "/")
	}
	doc := map[string]any{
		"issuer":                                s.cfg.Issuer,
		"jwks_uri":                              base + "/.well-known/jwks.json",
		"token_endpoint":                        base + "/auth/refresh",
		"response_types_supported":              []string{"token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"sub", "email", "email_verified", "cognito:username", "username", "client_id", "scope", "token_use", "iss", "aud", "exp", "iat", "auth_time", "jti", "origin_jti", "event_id", "custom:workspace"},
	}
	b, _ := json.Marshal(doc) // plain maps and slices always marshal
	return b
}
