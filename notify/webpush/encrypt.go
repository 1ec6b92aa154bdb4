package webpush

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// recordSize is the aes128gcm record size (RFC 8188 §2.1) of every push:
// the payload is padded to one record of it, so a notification's size says
// nothing of its text, and a record of 4,096 bytes is what every push
// service takes (RFC 8291 §4).
const recordSize = 4096

// encrypt returns the aes128gcm body (RFC 8188 §2) of plain for the
// subscriber's keys (RFC 8291 §3.4): a fresh ephemeral key pair and salt,
// then one record of recordSize bytes: plain, the 0x02 delimiter and zero
// padding, sealed with AES-128-GCM.
func encrypt(plain []byte, p256dh, auth string) ([]byte, error) {
	uaPublic, err := decodeKey(p256dh)
	if err != nil {
		return nil, fmt.Errorf("p256dh: %w", err)
	}
	secret, err := decodeKey(auth)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	asKey, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	rand.Read(salt) // never fails (crypto/rand)
	// The header and the sealed record together are recordSize bytes, as
	// webpush-go (which this replaces) sent them.
	padded := recordSize - (21 + len(asKey.PublicKey().Bytes())) - 16 // the header, the GCM tag
	return seal(plain, uaPublic, secret, asKey, salt, padded)
}

// seal is encrypt with the ephemeral key and the salt given, and the
// plain text padded to a record of padded bytes before sealing (at least
// len(plain)+1, for the delimiter): RFC 8291 Appendix A's example is
// seal's output with padded = len(plain)+1.
func seal(plain, uaPublic, secret []byte, asKey *ecdh.PrivateKey, salt []byte, padded int) ([]byte, error) {
	if len(plain)+1 > padded {
		return nil, fmt.Errorf("a payload of %d bytes does not fit one record", len(plain))
	}
	uaKey, err := ecdh.P256().NewPublicKey(uaPublic)
	if err != nil {
		return nil, fmt.Errorf("p256dh: %w", err)
	}
	shared, err := asKey.ECDH(uaKey)
	if err != nil {
		return nil, err
	}
	asPublic := asKey.PublicKey().Bytes()
	header := make([]byte, 0, 21+len(asPublic)+padded+16)
	header = append(header, salt...)
	header = binary.BigEndian.AppendUint32(header, recordSize)
	header = append(header, byte(len(asPublic)))
	header = append(header, asPublic...)

	keyInfo := make([]byte, 0, 14+2*len(asPublic))
	keyInfo = append(append(append(keyInfo, "WebPush: info\x00"...), uaPublic...), asPublic...)
	ikm, err := hkdf.Key(sha256.New, shared, secret, string(keyInfo), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	record := make([]byte, padded)
	copy(record, plain)
	record[len(plain)] = 2
	return gcm.Seal(header, nonce, record, nil), nil
}

// decodeKey decodes a subscription key, base64url with or without padding.
func decodeKey(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// VAPID tokens (RFC 8292 §2): valid for vapidExpiry, and reused for a push
// service's origin until vapidReuse before they expire; at most vapidCached
// origins are kept (endpoints name a handful of push services; past the
// bound the cache starts over).
const (
	vapidExpiry = 12 * time.Hour
	vapidReuse  = 6 * time.Hour
	vapidCached = 64
)

// vapid signs the Authorization header of push requests (RFC 8292 §3),
// one token per push service origin, reused until near its expiry: an
// ECDSA signature per push was a fifth of the channel's own CPU.
type vapid struct {
	key     *ecdsa.PrivateKey
	public  string // base64url of the uncompressed point
	subject string

	mu     sync.Mutex
	tokens map[string]vapidToken // by origin; guarded by mu
}

type vapidToken struct {
	header string
	until  time.Time // when to sign a new one
}

func newVAPID(k Keys, subject string) (*vapid, error) {
	priv, err := base64.RawURLEncoding.DecodeString(k.Private)
	if err != nil {
		return nil, errors.New("webpush: the VAPID private key is not base64url")
	}
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), priv)
	if err != nil {
		return nil, fmt.Errorf("webpush: the VAPID private key: %w", err)
	}
	if !strings.HasPrefix(subject, "mailto:") && !strings.HasPrefix(subject, "https:") {
		subject = "mailto:" + subject
	}
	return &vapid{key: key, public: k.Public, subject: subject, tokens: map[string]vapidToken{}}, nil
}

// header returns the Authorization header for a push to endpoint at now.
func (v *vapid) header(endpoint string, now time.Time) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", err
	}
	origin := u.Scheme + "://" + u.Host
	v.mu.Lock()
	defer v.mu.Unlock()
	if t, ok := v.tokens[origin]; ok && now.Before(t.until) {
		return t.header, nil
	}
	claims, err := json.Marshal(map[string]any{"aud": origin, "exp": now.Add(vapidExpiry).Unix(), "sub": v.subject})
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`)) + "." + base64.RawURLEncoding.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, v.key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64) // ES256 (RFC 7518 §3.4): r and s, 32 bytes each
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	h := "vapid t=" + signing + "." + base64.RawURLEncoding.EncodeToString(sig) + ", k=" + v.public
	if len(v.tokens) >= vapidCached {
		clear(v.tokens)
	}
	v.tokens[origin] = vapidToken{header: h, until: now.Add(vapidExpiry - vapidReuse)}
	return h, nil
}
