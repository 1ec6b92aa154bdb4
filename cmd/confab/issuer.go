package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
)

// chooseIssuer returns the token issuer (iss): --issuer if given, else
// --public-url, else one derived from the signing key. It never depends
// on the listen address, so a restart on another port keeps every session,
// and nodes that share --key-file accept each other's tokens with nothing
// else configured. A first start has no key yet: auth makes it here.
func chooseIssuer(ctx context.Context, st confab.Store, issuer, publicURL, keyFile string) (string, error) {
	if issuer != "" {
		return strings.TrimSuffix(issuer, "/"), nil
	}
	if publicURL != "" {
		return publicURL, nil
	}
	if err := ensureSigningKey(st, keyFile); err != nil {
		return "", err
	}
	return keyIssuer(keyFile)
}

// ensureSigningKey makes the signing key file if it is missing (auth does
// it), so that keys derived from it (deriveKey) can be made before the
// accounts service exists.
func ensureSigningKey(st confab.Store, keyFile string) error {
	if _, err := os.Stat(keyFile); errors.Is(err, fs.ErrNotExist) {
		if _, err := auth.New(st, auth.Config{KeyFile: keyFile}); err != nil {
			return err
		}
	}
	return nil
}

// keyIssuer is the default issuer: a URN naming the signing key file, the
// same on every node that holds a copy of it (re-encoding the file changes
// it, like a new key would).
func keyIssuer(keyFile string) (string, error) {
	sum, err := deriveKey(keyFile, "confab issuer")
	if err != nil {
		return "", err
	}
	return "urn:confab:" + hex.EncodeToString(sum[:12]), nil
}

// checkPublicURL validates --public-url: an absolute http(s) URL with a
// host and no query or fragment. It returns it without a trailing slash.
func checkPublicURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", usageError{fmt.Sprintf("--public-url %q: want the base URL clients use, like https://chat.example.com", raw)}
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
