package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/confab-chat/confab/store/sqlite"
)

type backupConfig struct {
	Data, To, Workspace string
}

func backupSettings(c *backupConfig) []setting {
	return []setting{
		{"data", "./confab-data", "data directory of the embedded store", str(&c.Data)},
		{"to", "", "file to write the copy to (must not exist)", str(&c.To)},
		workspaceSetting(&c.Workspace),
	}
}

// backup runs "confab backup --to FILE": a consistent online copy of the
// embedded store, safe while a server is running on the same data
// directory. Restore: stop the server and put the file back as
// <data>/confab.db (a workspace's: <data>/workspaces/<id>/confab.db).
func (m *Main) backup(ctx context.Context, args []string) error {
	var c backupConfig
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = usage(fs, "usage: confab backup --to FILE [--data DIR]")
	if err := parse(fs, backupSettings(&c), args, m.Getenv, m.Environ); err != nil {
		return err
	}
	if c.To == "" {
		return usageError{"backup: --to FILE is required"}
	}
	if err := checkWorkspaceFlag(c.Workspace); err != nil {
		return err
	}
	if _, err := os.Stat(c.To); err == nil {
		return fmt.Errorf("backup: %s already exists", c.To)
	}
	db := filepath.Join(workspaceDir(c.Data, c.Workspace), "confab.db")
	if _, err := os.Stat(db); err != nil {
		return fmt.Errorf("backup: no store at %s: %w", db, err)
	}
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, c.To); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, "backup written to", c.To)
	return nil
}
