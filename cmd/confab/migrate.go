package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/postgres"
	"github.com/confab-chat/confab/store/sqlite"
)

type migrateConfig struct {
	Data, Postgres string
}

func migrateSettings(c *migrateConfig) []setting {
	return []setting{
		{"data", "./confab-data", "data directory of the embedded (SQLite) store to copy from", str(&c.Data)},
		{"postgres", "", "PostgreSQL URL to copy into (its schema must be empty of confab data)", str(&c.Postgres)},
	}
}

// migrate runs "confab migrate --postgres URL": it copies an embedded
// deployment into PostgreSQL through the Store interface, so each engine
// applies its own rules (seq assignment, search index). Stop the server
// first; afterwards start it with --store postgres and the same key file.
func (m *Main) migrate(ctx context.Context, args []string) error {
	var c migrateConfig
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = usage(fs, "usage: confab migrate --postgres URL [--data DIR]")
	if err := parse(fs, migrateSettings(&c), args, m.Getenv, m.Environ); err != nil {
		return err
	}
	if c.Postgres == "" {
		return usageError{"migrate: --postgres URL is required"}
	}
	src, err := sqlite.Open(ctx, filepath.Join(c.Data, "confab.db"))
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, c.Postgres)
	if err != nil {
		return err
	}
	defer dst.Close()
	n, err := copyStore(ctx, src, dst)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(m.Stdout, "migrated %d users, %d refresh tokens, %d conversations, %d messages\n", n.users, n.tokens, n.conversations, n.messages)
	return nil
}

type copied struct{ users, tokens, conversations, messages int }

// copyStore copies everything from src into the empty dst. Messages are
// appended in seq order, so dst assigns the same seqs; deleted ones are
// appended and deleted again to keep seqs gapless.
func copyStore(ctx context.Context, src *sqlite.Store, dst confab.Store) (copied, error) {
	var n copied
	err := src.Export(ctx,
		func(a *confab.Account) error {
			a.User.IsOnline = false
			n.users++
			return dst.InsertAccount(ctx, a)
		},
		func(t *confab.RefreshToken) error {
			n.tokens++
			return dst.InsertRefreshToken(ctx, t)
		},
		func(c *confab.Conversation) error {
			n.conversations++
			fresh := *c // the summary is rebuilt by the appends below
			fresh.LastMessage, fresh.LastMessageAt, fresh.MessageCount, fresh.LastSeq = nil, nil, 0, 0
			if err := dst.InsertConversation(ctx, &fresh); err != nil {
				return err
			}
			for after := int64(0); ; {
				page, err := src.ListMessagesAfter(ctx, c.ConversationID, after, 500)
				if err != nil {
					return err
				}
				for _, msg := range page {
					want, deleted, at := msg.Seq, msg.Deleted, msg.UpdatedAt
					msg.Deleted, msg.UpdatedAt = false, nil
					if _, err := dst.AppendMessage(ctx, msg); err != nil {
						return err
					}
					if msg.Seq != want {
						return fmt.Errorf("conversation %s: message %s got seq %d, want %d", c.ConversationID, msg.MessageID, msg.Seq, want)
					}
					if deleted && at != nil {
						if _, _, err := dst.DeleteMessage(ctx, c.ConversationID, msg.MessageID, *at); err != nil {
							return err
						}
					}
					after = want
					n.messages++
				}
				if len(page) < 500 {
					return nil
				}
			}
		})
	return n, err
}
