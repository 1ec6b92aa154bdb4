package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
)

type inviteConfig struct {
	Data, KeyFile, Workspace, Email, PublicURL string
	Workspaces                                 string // the workspaces file, as serve's
	TTL                                        time.Duration
}

func inviteSettings(c *inviteConfig) []setting {
	return []setting{
		{"data", "./confab-data", "data directory (the signing key)", str(&c.Data)},
		{"key-file", "", "JWT signing key the server runs with (default <data>/jwt-signing-key.pem): the invitation key is derived from it", str(&c.KeyFile)},
		{"workspace", "", "the workspace invited to (its id); default: the default workspace", str(&c.Workspace)},
		{"email", "", "bind the invitation to this e-mail address: only a sign-up with it is admitted; default: anyone with the link", str(&c.Email)},
		{"ttl", "168h", "how long the invitation stays valid", duration(&c.TTL)},
		{"public-url", "", "the base URL clients use, as confab serve --public-url (required)", str(&c.PublicURL)},
		{"workspaces", "", "the server's workspaces file (as confab serve --workspaces): when given, --workspace must be in it", str(&c.Workspaces)},
	}
}

const inviteUsage = "usage: confab workspace invite [--workspace ID] [--email E] [--ttl 168h] --public-url U"

// workspace runs "confab workspace invite": it prints an invitation link to
// a workspace, <public-url>/w/<id>/?invite=<token> (<public-url>/?invite=…
// for the default workspace), which the web client's sign-up form takes.
// The token needs nothing stored: it is checked against the key derived
// from the signing key file, so it must be the server's (docs/workspaces.md).
func (m *Main) workspace(_ context.Context, args []string) error {
	if len(args) == 0 || args[0] != "invite" {
		return usageError{inviteUsage}
	}
	var c inviteConfig
	fs := flag.NewFlagSet("workspace invite", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = usage(fs, inviteUsage)
	if err := parse(fs, inviteSettings(&c), args[1:], m.Getenv, m.Environ); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("workspace invite: unexpected argument %q", fs.Arg(0))}
	}
	link, expiry, err := c.invitation(time.Now())
	if err != nil {
		return err
	}
	if err := c.checkListed(m.Stderr); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, link)
	who := "anyone with the link"
	if c.Email != "" {
		who = c.Email + " only"
	}
	fmt.Fprintf(m.Stderr, "valid until %s, for %s\n", expiry.UTC().Format(time.RFC3339), who)
	return nil
}

// checkListed, with a workspaces file, refuses a workspace not in it and
// says when its sign-up policy does not ask for invitations (the link then
// works, but anyone, or only its domains, could sign up anyway).
func (c inviteConfig) checkListed(warn io.Writer) error {
	if c.Workspaces == "" || c.Workspace == "" || c.Workspace == confab.DefaultWorkspace {
		return nil
	}
	list, err := readWorkspaces(c.Workspaces)
	if err != nil {
		return err
	}
	for _, ws := range list {
		if ws.ID != c.Workspace {
			continue
		}
		if ws.Signup != confab.SignupInvitation {
			fmt.Fprintf(warn, "note: workspace %s's sign-up policy is %s, not invitation: the link is not needed to sign up there\n", ws.ID, ws.Signup)
		}
		return nil
	}
	return usageError{fmt.Sprintf("workspace invite: workspace %q is not in %s", c.Workspace, c.Workspaces)}
}

// invitation returns the invitation link and when it expires.
func (c inviteConfig) invitation(now time.Time) (string, time.Time, error) {
	base, err := checkPublicURL(c.PublicURL)
	if err != nil {
		return "", time.Time{}, err
	}
	if base == "" {
		return "", time.Time{}, usageError{"workspace invite: --public-url is required (the link must name the server)"}
	}
	id := c.Workspace
	if id == confab.DefaultWorkspace {
		id = ""
	}
	if id != "" {
		if err := confab.ValidWorkspaceID(id); err != nil {
			return "", time.Time{}, usageError{"workspace invite: --workspace: " + err.Error()}
		}
	}
	if c.TTL <= 0 {
		return "", time.Time{}, usageError{"workspace invite: --ttl must be positive"}
	}
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
			return "", time.Time{}, usageError{fmt.Sprintf("workspace invite: --email %q is not an e-mail address", c.Email)}
		}
	}
	keyFile := c.KeyFile
	if keyFile == "" {
		keyFile = filepath.Join(c.Data, "jwt-signing-key.pem")
	}
	if _, err := os.Stat(keyFile); errors.Is(err, fs.ErrNotExist) {
		return "", time.Time{}, usageError{fmt.Sprintf("workspace invite: no signing key at %s: pass the server's --data or --key-file (confab serve makes the key at its first start)", keyFile)}
	}
	key, err := deriveKey(keyFile, invitationKeyPurpose)
	if err != nil {
		return "", time.Time{}, err
	}
	token := auth.NewInvitation(key, id, c.Email, c.TTL, now)
	path := "/"
	if id != "" {
		path = "/w/" + id + "/"
	}
	return base + path + "?invite=" + url.QueryEscape(token), now.Add(c.TTL), nil
}
