// Package srp is the server side of the Secure Remote Password variant
// Amazon Cognito speaks (USER_SRP_AUTH), the math of protocols.md §4.6
// exactly as Amplify and amazon-cognito-identity-js compute it: the 3072-bit
// group of RFC 3526, SHA-256, "padded hex" everywhere a number is hashed,
// and an HKDF-derived key signing the client's claim.
//
// It holds no state and does no I/O; auth keeps verifiers and seals the
// server's secret between the two steps.
package srp

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
)

// nHex is the 3072-bit MODP prime of RFC 3526 §4.
const nHex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74" +
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437" +
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05" +
	"98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB" +
	"9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718" +
	"3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33" +
	"A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
	"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864" +
	"D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2" +
	"08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"

var (
	n = mustHex(nHex)
	g = big.NewInt(2)
	// k = H(hex(N) + hex(g)), Cognito's multiplier.
	k = new(big.Int).SetBytes(hashHex(PadHex(n) + PadHex(g)))
)

func mustHex(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("srp: bad constant")
	}
	return v
}

// PadHex is Cognito's "padded hex" of a non-negative integer: lower-case
// hex, left-padded to an even length, with "00" in front when the first
// digit is 8 or more (so it never reads as negative).
func PadHex(v *big.Int) string {
	h := v.Text(16)
	if len(h)%2 == 1 {
		h = "0" + h
	}
	if strings.IndexByte("89abcdef", h[0]) >= 0 {
		h = "00" + h
	}
	return h
}

// hashHex is SHA-256 of the bytes a hex string spells.
func hashHex(h string) []byte {
	b, err := hex.DecodeString(h)
	if err != nil {
		panic("srp: hashHex of non-hex: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// X is the private value of a password: H(hex(salt) + Hs(pool + user +
// ":" + password)), where user is the USER_ID_FOR_SRP the server sends.
func X(pool, user, password string, salt *big.Int) *big.Int {
	inner := sha256.Sum256([]byte(pool + user + ":" + password))
	return new(big.Int).SetBytes(hashHex(PadHex(salt) + hex.EncodeToString(inner[:])))
}

// Verifier returns a new random salt (16 bytes) and the verifier g^x mod N
// of the password, both as hex without padding.
func Verifier(pool, user, password string) (saltHex, verifierHex string) {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand documents it)
	salt := new(big.Int).SetBytes(b)
	v := new(big.Int).Exp(g, X(pool, user, password, salt), n)
	return salt.Text(16), v.Text(16)
}

// ErrBadInput is returned for values a client or a stored verifier could
// only send by mistake or malice: not hex, A ≡ 0 mod N, u = 0.
var ErrBadInput = errors.New("srp: invalid value")

// ParseHex parses an unpadded or padded hex number.
func ParseHex(s string) (*big.Int, error) {
	if s == "" || len(s) > 2048 {
		return nil, ErrBadInput
	}
	v, ok := new(big.Int).SetString(s, 16)
	if !ok || v.Sign() < 0 {
		return nil, ErrBadInput
	}
	return v, nil
}

// Challenge is the server's first step for a client value A and the user's
// verifier v: a random secret b and B = (k·v + g^b) mod N. A ≡ 0 mod N is
// refused (it would fix the shared secret).
func Challenge(a, v *big.Int) (b, B *big.Int, err error) {
	if new(big.Int).Mod(a, n).Sign() == 0 {
		return nil, nil, ErrBadInput
	}
	raw := make([]byte, 128)
	rand.Read(raw) // never fails (crypto/rand documents it)
	return challengeWith(new(big.Int).SetBytes(raw), v)
}

// challengeWith computes B for a given secret b (tests pin b).
func challengeWith(b, v *big.Int) (*big.Int, *big.Int, error) {
	B := new(big.Int).Exp(g, b, n)
	B.Add(B, new(big.Int).Mul(k, v))
	B.Mod(B, n)
	return b, B, nil
}

// Key derives the 16-byte key both sides share: u = H(hex(A) + hex(B)),
// S = (A · v^u)^b mod N, K = HKDF-SHA256(salt = bytes(hex(u)),
// ikm = bytes(hex(S)), info = "Caldera Derived Key").
func Key(a, B, b, v *big.Int) ([]byte, error) {
	u := new(big.Int).SetBytes(hashHex(PadHex(a) + PadHex(B)))
	if u.Sign() == 0 {
		return nil, ErrBadInput
	}
	s := new(big.Int).Exp(v, u, n)
	s.Mul(s, a)
	s.Mod(s, n)
	s.Exp(s, b, n)
	sBytes, _ := hex.DecodeString(PadHex(s)) // PadHex is always even-length hex
	uBytes, _ := hex.DecodeString(PadHex(u))
	return hkdf.Key(sha256.New, sBytes, uBytes, "Caldera Derived Key", 16)
}

// Signature is the claim a client proves the password with:
// HMAC-SHA256(K, pool || user || secretBlock || timestamp).
func Signature(key []byte, pool, user string, secretBlock []byte, timestamp string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(pool))
	m.Write([]byte(user))
	m.Write(secretBlock)
	m.Write([]byte(timestamp))
	return m.Sum(nil)
}

// The client's side, as Amplify computes it: for Go clients and for tests
// of the server against an independent computation.

// ClientA returns a random client secret a and its public value
// A = g^a mod N.
func ClientA() (a, A *big.Int) {
	raw := make([]byte, 128)
	rand.Read(raw) // never fails (crypto/rand documents it)
	a = new(big.Int).SetBytes(raw)
	return a, new(big.Int).Exp(g, a, n)
}

// ClientKey derives the client's key from the password and the server's
// salt and B: S = (B - k·g^x)^(a + u·x) mod N, then the HKDF written out
// as its two HMACs.
func ClientKey(pool, user, password string, salt, a, A, B *big.Int) []byte {
	x := X(pool, user, password, salt)
	u := new(big.Int).SetBytes(hashHex(PadHex(A) + PadHex(B)))
	base := new(big.Int).Sub(B, new(big.Int).Mul(k, new(big.Int).Exp(g, x, n)))
	base.Mod(base, n)
	s := new(big.Int).Exp(base, new(big.Int).Add(a, new(big.Int).Mul(u, x)), n)
	uBytes, _ := hex.DecodeString(PadHex(u)) // PadHex is always even-length hex
	sBytes, _ := hex.DecodeString(PadHex(s))
	prk := hmac.New(sha256.New, uBytes)
	prk.Write(sBytes)
	t := hmac.New(sha256.New, prk.Sum(nil))
	t.Write(append([]byte("Caldera Derived Key"), 1))
	return t.Sum(nil)[:16]
}
