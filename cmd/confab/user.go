package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/store/dynamodb"
)

type userConfig struct {
	Data, Store, KeyFile, Postgres         string
	Workspace                              string
	UserPoolID                             string
	Email, Password, Username, DisplayName string
	DynamoDB                               dynamodb.Config
}

func userSettings(c *userConfig) []setting {
	return append([]setting{
		{"data", "./confab-data", "data directory", str(&c.Data)},
		{"store", "sqlite", "store engine: sqlite, postgres or dynamodb", str(&c.Store)},
		{"postgres", "", "PostgreSQL URL for --store postgres", str(&c.Postgres)},
		{"key-file", "", "JWT signing key (default <data>/jwt-signing-key.pem)", str(&c.KeyFile)},
		{"email", "", "email address (required)", str(&c.Email)},
		{"password", "", "password (required; the password policy applies)", str(&c.Password)},
		{"username", "", "username (default: the email address)", str(&c.Username)},
		{"display-name", "", "display name", str(&c.DisplayName)},
		{"user-pool-id", defaultUserPoolID, "the user pool id the server runs with (as confab serve --user-pool-id): the SRP verifier stored for the password depends on it", str(&c.UserPoolID)},
		workspaceSetting(&c.Workspace),
	}, dynamoSettings(&c.DynamoDB)...)
}

// user runs "confab user create": it creates a confirmed account in the
// data directory, like the recipe's admin-create-user with a permanent
// password, and prints the new userId.
func (m *Main) user(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"usage: confab user create --email E --password P [--username U] [--display-name N]"}
	}
	var c userConfig
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = usage(fs, "usage: confab user create [flags]")
	if err := parse(fs, userSettings(&c), args[1:], m.Getenv, m.Environ); err != nil {
		return err
	}
	if c.Email == "" || c.Password == "" {
		return usageError{"user create: --email and --password are required"}
	}
	if err := checkWorkspaceFlag(c.Workspace); err != nil {
		return err
	}
	if err := os.MkdirAll(c.Data, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	st, err := openStore(ctx, c.Store, c.Data, c.Postgres, c.DynamoDB, c.Workspace)
	if err != nil {
		return err
	}
	defer st.Close()
	if c.KeyFile == "" {
		c.KeyFile = filepath.Join(c.Data, "jwt-signing-key.pem")
	}
	a, err := auth.New(st, auth.Config{KeyFile: c.KeyFile, UserPoolID: workspacePoolID(c.UserPoolID, c.Workspace), Workspace: confab.Workspace{ID: c.Workspace}})
	if err != nil {
		return err
	}
	u, err := a.CreateAccount(ctx, auth.SignUpInput{Email: c.Email, Password: c.Password, Username: c.Username, DisplayName: c.DisplayName})
	if err != nil {
		return fmt.Errorf("user create: %w", err)
	}
	fmt.Fprintln(m.Stdout, u.UserID)
	return nil
}
