package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/confab-chat/confab"
	"golang.org/x/crypto/argon2"
)

// PasswordPolicy is what a new password must satisfy (the recipe's Cognito
// policy by default: 8+ characters with upper, lower and a digit).
type PasswordPolicy struct {
	MinLength     int  // default 8
	MaxLength     int  // default 256 (bounds hashing work)
	RequireUpper  bool // default true
	RequireLower  bool // default true
	RequireDigit  bool // default true
	RequireSymbol bool // default false
}

// DefaultPasswordPolicy is the recipe's policy.
var DefaultPasswordPolicy = PasswordPolicy{MinLength: 8, MaxLength: 256, RequireUpper: true, RequireLower: true, RequireDigit: true}

// Check returns a CodeInvalid error naming what pw lacks.
func (p PasswordPolicy) Check(pw string) error {
	var upper, lower, digit, symbol bool
	n := 0
	for _, r := range pw {
		n++
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			symbol = true
		}
	}
	var missing []string
	if n < p.MinLength {
		missing = append(missing, fmt.Sprintf("at least %d characters", p.MinLength))
	}
	if p.MaxLength > 0 && n > p.MaxLength {
		missing = append(missing, fmt.Sprintf("at most %d characters", p.MaxLength))
	}
	if p.RequireUpper && !upper {
		missing = append(missing, "an uppercase letter")
	}
	if p.RequireLower && !lower {
		missing = append(missing, "a lowercase letter")
	}
	if p.RequireDigit && !digit {
		missing = append(missing, "a digit")
	}
	if p.RequireSymbol && !symbol {
		missing = append(missing, "a symbol")
	}
	if len(missing) > 0 {
		return &confab.Error{Code: confab.CodeInvalid, Op: opPasswordPolicy, Message: "Password does not conform to policy: it needs " + strings.Join(missing, ", ") + "."}
	}
	return nil
}

// opPasswordPolicy marks policy errors so the HTTP edge can name them
// InvalidPassword.
const opPasswordPolicy = "auth.PasswordPolicy"

// IsPasswordPolicyError reports whether err is a password-policy refusal.
func IsPasswordPolicyError(err error) bool {
	var e *confab.Error
	return errors.As(err, &e) && e.Op == opPasswordPolicy
}

// argonParams are the argon2id cost parameters of new hashes. Existing
// hashes carry their own in the PHC string, so raising these later only
// affects passwords set afterwards.
type argonParams struct {
	time    uint32 // passes
	memory  uint32 // KiB
	threads uint8  // lanes
}

// owaspArgon (never modified) is OWASP's recommendation (19 MiB, 2 passes,
// 1 lane): some tens of milliseconds of one core per hash.
var owaspArgon = argonParams{time: 2, memory: 19 * 1024, threads: 1}

const (
	argonKeyLen  = 32 // bytes of derived key
	argonSaltLen = 16 // bytes of random salt
)

// hashPassword returns a PHC-format argon2id hash with OWASP's parameters.
func hashPassword(pw string) string { return owaspArgon.hash(pw) }

func (ap argonParams) hash(pw string) string {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt) // never fails (crypto/rand documents it)
	key := argon2.IDKey([]byte(pw), salt, ap.time, ap.memory, ap.threads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, ap.memory, ap.time, ap.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// checkPassword reports whether pw matches the PHC hash, in constant time.
func checkPassword(pw, hash string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
