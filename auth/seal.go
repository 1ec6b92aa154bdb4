package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"
)

// deriveSealKey derives the AES-256 key of sealed blobs from the signing
// key, so every node that shares the key file opens the others' blobs and
// the server keeps no session state.
func deriveSealKey(key *rsa.PrivateKey) []byte {
	k, err := hkdf.Key(sha256.New, key.D.Bytes(), nil, "confab sealed sessions v1", 32)
	if err != nil {
		panic("auth: hkdf of a 32-byte key cannot fail: " + err.Error())
	}
	return k
}

// sealed is the envelope of a sealed blob: what it is for, until when, and
// its content.
type sealed struct {
	Purpose string          `json:"p"`
	Expires int64           `json:"e"` // Unix seconds
	Data    json.RawMessage `json:"d"`
}

// seal encrypts and authenticates v (AES-256-GCM) for purpose, valid for
// ttl, as base64.
func (s *Service) seal(purpose string, ttl time.Duration, v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic("auth: sealed values are plain structs: " + err.Error())
	}
	plain, _ := json.Marshal(sealed{Purpose: purpose, Expires: s.now().Add(ttl).Unix(), Data: data}) // cannot fail: raw JSON inside
	aead := s.aead()
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce) // never fails (crypto/rand documents it)
	return base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(purpose)))
}

// open reverses seal into v. It reports false for anything that is not a
// blob sealed for purpose that is still valid.
func (s *Service) open(purpose, blob string, v any) bool {
	if len(blob) > maxSealedBytes {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(blob)
	aead := s.aead()
	if err != nil || len(raw) < aead.NonceSize() {
		return false
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(purpose))
	if err != nil {
		return false
	}
	var env sealed
	if json.Unmarshal(plain, &env) != nil || env.Purpose != purpose || s.now().Unix() >= env.Expires {
		return false
	}
	return json.Unmarshal(env.Data, v) == nil
}

// maxSealedBytes bounds a blob before any work on it.
const maxSealedBytes = 8 << 10

func (s *Service) aead() cipher.AEAD {
	block, err := aes.NewCipher(s.sealKey)
	if err != nil {
		panic("auth: the seal key is 32 bytes: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("auth: GCM over AES cannot fail: " + err.Error())
	}
	return aead
}
