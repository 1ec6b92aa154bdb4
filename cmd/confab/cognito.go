package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// cognitoConfig is the Cognito-compatible API's part of confab serve.
type cognitoConfig struct {
	UserPoolID, ClientID, ClientSecret  string
	AdminKeyID, AdminSecret, AdminCreds string
	SRP                                 bool
	SMTPURL, MailFrom                   string
}

func cognitoSettings(c *cognitoConfig) []setting {
	return []setting{
		{"user-pool-id", defaultUserPoolID, "Cognito user pool id, <region>_<name>; the name is part of every SRP verifier, so keep it once users exist", str(&c.UserPoolID)},
		{"client-id", defaultClientID, "app client id: the tokens' aud and client_id, and the ClientId Cognito clients send", str(&c.ClientID)},
		{"client-secret", "", "app client secret; when set, Cognito calls must carry SECRET_HASH (Amplify JS cannot: leave empty for it)", str(&c.ClientSecret)},
		{"admin-access-key-id", "", "access key id the Cognito admin operations (AdminCreateUser, …) must be SigV4-signed with; none: they are refused", str(&c.AdminKeyID)},
		{"admin-secret-access-key", "", "its secret access key (prefer the env variable or --admin-credentials-file to a flag)", str(&c.AdminSecret)},
		{"admin-credentials-file", "", "AWS shared-credentials file ([default] aws_access_key_id, aws_secret_access_key) holding the admin key pair", str(&c.AdminCreds)},
		{"srp", "true", "allow SRP sign-in (Amplify's default USER_SRP_AUTH); it stores a fast salted verifier of each password", boolean(&c.SRP)},
		{"smtp-url", "", "SMTP server for sign-up and password-reset codes: smtp://[user:password@]host[:port] (STARTTLS) or smtps://…; none: sign-ups are confirmed at once", str(&c.SMTPURL)},
		{"mail-from", "", "sender address of those e-mails, e.g. \"confab <no-reply@chat.example.com>\" (required with --smtp-url)", str(&c.MailFrom)},
	}
}

// check validates the settings and reads the admin credentials file.
func (c *cognitoConfig) check() error {
	if _, err := poolRegion(c.UserPoolID); err != nil {
		return err
	}
	if c.ClientID == "" {
		return usageError{"--client-id is empty"}
	}
	if c.AdminCreds != "" {
		if c.AdminKeyID != "" || c.AdminSecret != "" {
			return usageError{"--admin-credentials-file and --admin-access-key-id/--admin-secret-access-key exclude each other"}
		}
		var err error
		if c.AdminKeyID, c.AdminSecret, err = readAWSCredentials(c.AdminCreds); err != nil {
			return err
		}
	}
	if (c.AdminKeyID == "") != (c.AdminSecret == "") {
		return usageError{"--admin-access-key-id and --admin-secret-access-key go together"}
	}
	if (c.SMTPURL == "") != (c.MailFrom == "") {
		return usageError{"--smtp-url and --mail-from go together"}
	}
	return nil
}

// readAWSCredentials reads the key pair of the [default] profile (or of
// the only profile) of an AWS shared-credentials file, so the operator and
// the AWS CLI can use the same file.
func readAWSCredentials(path string) (keyID, secret string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", fmt.Errorf("--admin-credentials-file: %w", err)
	}
	defer f.Close()
	profiles := map[string]map[string]string{}
	var order []string
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = strings.TrimSpace(line[1 : len(line)-1])
			if profiles[section] == nil {
				profiles[section] = map[string]string{}
				order = append(order, section)
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if ok && profiles[section] != nil {
				profiles[section][strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("--admin-credentials-file: %w", err)
	}
	p := profiles["default"]
	if p == nil && len(order) == 1 {
		p = profiles[order[0]]
	}
	if p["aws_access_key_id"] == "" || p["aws_secret_access_key"] == "" {
		return "", "", usageError{fmt.Sprintf("--admin-credentials-file %s: want a [default] profile with aws_access_key_id and aws_secret_access_key", path)}
	}
	return p["aws_access_key_id"], p["aws_secret_access_key"], nil
}
