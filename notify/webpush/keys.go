package webpush

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// KeysFile is the VAPID key file's name in the data directory.
const KeysFile = "vapid.json"

// Keys is the server's VAPID key pair (RFC 8292): a P-256 key whose public
// half browsers are given when they subscribe (applicationServerKey) and
// whose private half signs every push request. Every node of one
// deployment must use the same pair, or pushes are refused.
type Keys struct {
	Public  string `json:"publicKey"`  // base64url, the uncompressed point
	Private string `json:"privateKey"` // base64url, the scalar
}

// check verifies that the pair is a P-256 key and its public half.
func (k Keys) check() error {
	priv, err := base64.RawURLEncoding.DecodeString(k.Private)
	if err != nil {
		return errors.New("webpush: the VAPID private key is not base64url")
	}
	key, err := ecdh.P256().NewPrivateKey(priv)
	if err != nil {
		return fmt.Errorf("webpush: the VAPID private key: %w", err)
	}
	if base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()) != k.Public {
		return errors.New("webpush: the VAPID public key is not the private key's")
	}
	return nil
}

// LoadKeys reads the pair from path, or, when the file does not exist,
// generates one and writes it there (mode 0600, never replacing a file
// another process wrote meanwhile). Share the file between nodes as the
// signing key is shared.
func LoadKeys(path string) (Keys, error) {
	k, err := readKeys(path)
	if !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return Keys{}, fmt.Errorf("webpush: generate VAPID keys: %w", err)
	}
	k = Keys{Public: base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()), Private: base64.RawURLEncoding.EncodeToString(key.Bytes())}
	b, _ := json.MarshalIndent(k, "", "  ") // two strings always marshal
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Keys{}, fmt.Errorf("webpush: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return readKeys(path) // another node or process won the race
	} else if err != nil {
		return Keys{}, fmt.Errorf("webpush: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return Keys{}, fmt.Errorf("webpush: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return Keys{}, fmt.Errorf("webpush: write %s: %w", path, err)
	}
	return k, nil
}

func readKeys(path string) (Keys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Keys{}, err
	}
	var k Keys
	if err := json.Unmarshal(b, &k); err != nil {
		return Keys{}, fmt.Errorf("webpush: %s: %w", path, err)
	}
	if err := k.check(); err != nil {
		return Keys{}, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}
