package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/dynamodb"
	"github.com/confab-chat/confab/store/dynamodb/recipe"
	"github.com/confab-chat/confab/store/sqlite"
	"golang.org/x/sync/errgroup"
)

type migrateConfig struct {
	Data, Postgres string
	Workspace      string

	FromDynamoDB                                          bool
	DynamoDBTablePrefix, DynamoDBRegion, DynamoDBEndpoint string
	CognitoUsers                                          string
	To, ToDynamoDBTablePrefix                             string
	DryRun                                                bool
}

func migrateSettings(c *migrateConfig) []setting {
	return []setting{
		{"data", "./confab-data", "data directory of the embedded (SQLite) store to copy from (or into, with --from-dynamodb --to sqlite)", str(&c.Data)},
		{"postgres", "", "PostgreSQL URL to copy into (its schema must be empty of confab data, unless --from-dynamodb)", str(&c.Postgres)},
		{"from-dynamodb", "false", "copy from the AppSync recipe's DynamoDB tables instead of the embedded store", boolean(&c.FromDynamoDB)},
		{"dynamodb-table-prefix", "", `with --from-dynamodb: what the recipe's table names start with, "${CHAT_APP_NAME}-" for its <prefix>messages, <prefix>conversations, <prefix>users`, str(&c.DynamoDBTablePrefix)},
		{"dynamodb-region", "", "with --from-dynamodb: the tables' AWS region (else AWS_REGION or the AWS config file)", str(&c.DynamoDBRegion)},
		{"dynamodb-endpoint", "", "with --from-dynamodb: DynamoDB endpoint URL (DynamoDB Local, a VPC endpoint); default AWS's for the region", str(&c.DynamoDBEndpoint)},
		{"cognito-users", "", "with --from-dynamodb: the JSON of `aws cognito-idp list-users --user-pool-id POOL` for the users' emails (else placeholders)", str(&c.CognitoUsers)},
		{"to", "", "with --from-dynamodb: the store to write, sqlite (--data), postgres (--postgres) or dynamodb (--to-dynamodb-table-prefix)", str(&c.To)},
		{"to-dynamodb-table-prefix", "", "with --to dynamodb: the table prefix of the confab store to write, in the same region (tables made when missing); not the recipe's own, which confab serves in place", str(&c.ToDynamoDBTablePrefix)},
		{"dry-run", "false", "with --from-dynamodb: read and check everything, write nothing, print the counts", boolean(&c.DryRun)},
		workspaceSetting(&c.Workspace),
	}
}

// migrate runs "confab migrate --postgres URL": it copies an embedded
// deployment into PostgreSQL through the Store interface, so each engine
// applies its own rules (seq assignment, search index). Stop the server
// first; afterwards start it with --store postgres and the same key file.
// With --from-dynamodb it brings an AppSync recipe deployment over instead
// (migrateRecipe).
func (m *Main) migrate(ctx context.Context, args []string) error {
	var c migrateConfig
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = usage(fs, "usage: confab migrate --postgres URL [--data DIR]\n       confab migrate --from-dynamodb --dynamodb-table-prefix P [--dynamodb-region R] [--dynamodb-endpoint URL] [--cognito-users FILE] --to sqlite|postgres|dynamodb [--dry-run]")
	if err := parse(fs, migrateSettings(&c), args, m.Getenv, m.Environ); err != nil {
		return err
	}
	if err := checkWorkspaceFlag(c.Workspace); err != nil {
		return err
	}
	if c.FromDynamoDB {
		return m.migrateRecipe(ctx, c)
	}
	if c.To != "" || c.DryRun || c.CognitoUsers != "" || c.ToDynamoDBTablePrefix != "" {
		return usageError{"migrate: --to, --to-dynamodb-table-prefix, --cognito-users and --dry-run go with --from-dynamodb"}
	}
	if c.Postgres == "" {
		return usageError{"migrate: --postgres URL is required"}
	}
	src, err := sqlite.Open(ctx, filepath.Join(workspaceDir(c.Data, c.Workspace), "confab.db"))
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openStore(ctx, "postgres", c.Data, c.Postgres, dynamodb.Config{}, c.Workspace)
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
// appended in seq order, so dst assigns the same seqs; their earlier
// versions are replayed as edits, then their reactions are added, and
// deleted ones are deleted again last (a deleted thread root must still be
// live while its replies are appended). dst writes its own change log, so
// changeSeqs start again from 1: clients that kept one reload (their
// afterChange is beyond the new log or points elsewhere). Thread read
// marks are not carried over: no store reads them back. Roles, settings,
// mutes, direct pairs, archived conversations, admins, add policies and
// moderators' deletions come over; blocks, invitations, bans, reports and
// the audit log do not.
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
			fresh.LastMessage, fresh.LastMessageAt, fresh.MessageCount, fresh.LastSeq, fresh.LastChangeSeq = nil, nil, 0, 0, 0
			if err := dst.InsertConversation(ctx, &fresh); err != nil {
				return err
			}
			m, err := copyMessages(ctx, src, dst, c.ConversationID)
			n.messages += m
			return err
		})
	return n, err
}

// copyMessages copies one conversation's messages (see copyStore) and
// returns how many it copied.
func copyMessages(ctx context.Context, src *sqlite.Store, dst confab.Store, conversationID string) (int, error) {
	var ids []string
	type tombstone struct {
		at time.Time
		by string // a moderator, or "" for the author
	}
	deleted := make(map[string]tombstone)
	for after := int64(0); ; {
		page, err := src.ListMessagesAfter(ctx, conversationID, after, confab.MaxPageLimit)
		if err != nil {
			return len(ids), err
		}
		for _, msg := range page {
			if msg.Deleted && msg.UpdatedAt != nil {
				deleted[msg.MessageID] = tombstone{*msg.UpdatedAt, msg.DeletedBy}
			}
			if err := copyMessage(ctx, src, dst, msg); err != nil {
				return len(ids), err
			}
			ids = append(ids, msg.MessageID)
			after = msg.Seq
		}
		if len(page) < confab.MaxPageLimit {
			break
		}
	}
	for page := range slices.Chunk(ids, confab.MaxPageLimit) {
		if err := copyReactions(ctx, src, dst, conversationID, page); err != nil {
			return len(ids), err
		}
	}
	for _, id := range ids {
		if d, ok := deleted[id]; ok {
			if _, _, err := dst.DeleteMessage(ctx, conversationID, id, d.by, d.at); err != nil {
				return len(ids), err
			}
		}
	}
	return len(ids), nil
}

// migrateEditsLimit bounds the earlier versions of one message a
// migration replays; older ones are left behind.
const migrateEditsLimit = 10_000

// copyMessage appends msg to dst with the seq it has in src, as first
// sent, and replays its edits.
func copyMessage(ctx context.Context, src *sqlite.Store, dst confab.Store, msg *confab.Message) error {
	edits, err := src.ListMessageEdits(ctx, msg.ConversationID, msg.MessageID, migrateEditsLimit) // newest first
	if err != nil {
		return err
	}
	want, current := msg.Seq, msg.Content
	msg.Deleted, msg.UpdatedAt, msg.EditedAt = false, nil, nil
	if len(edits) > 0 {
		msg.Content = edits[len(edits)-1].Content
	}
	if _, err := dst.AppendMessage(ctx, msg); err != nil {
		return err
	}
	if msg.Seq != want {
		return fmt.Errorf("conversation %s: message %s got seq %d, want %d", msg.ConversationID, msg.MessageID, msg.Seq, want)
	}
	// edits[i] was replaced at edits[i].ReplacedAt by the next newer
	// version: edits[i-1], or the current content for edits[0].
	for i := len(edits) - 1; i >= 0; i-- {
		next := current
		if i > 0 {
			next = edits[i-1].Content
		}
		if _, err := dst.EditMessage(ctx, msg.ConversationID, msg.MessageID, next, edits[i].ReplacedAt); err != nil {
			return err
		}
	}
	return nil
}

// migrateReactorsLimit bounds the users of one reaction key on one
// message a migration copies.
const migrateReactorsLimit = 10_000

// copyReactions adds the reactions of a page of messages to dst, each
// user's in the order they reacted. A store reads back only the time of
// a key's first reaction, so the later reactors of a key are dated a
// millisecond apart after it: the order is kept, the times approximate.
func copyReactions(ctx context.Context, src *sqlite.Store, dst confab.Store, conversationID string, ids []string) error {
	byMessage, err := src.ListReactions(ctx, conversationID, ids, "", migrateReactorsLimit)
	if err != nil {
		return err
	}
	for _, id := range ids {
		for _, rc := range byMessage[id] {
			for i, user := range rc.UserIDs {
				at := rc.FirstAt.Add(time.Duration(i) * time.Millisecond)
				r := &confab.Reaction{ConversationID: conversationID, MessageID: id, UserID: user, Key: rc.Key, At: at}
				// src held them all: no limit of dst's refuses a key here.
				if _, _, err := dst.AddReaction(ctx, r, math.MaxInt32); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// migrateRecipe runs "confab migrate --from-dynamodb": it brings a
// deployment of the AppSync recipe over from its DynamoDB tables (see
// recipeCopy for what is kept and how). Every item that cannot be
// migrated is listed on stderr and makes the command fail after the rest
// is copied; fix the items and run it again, which adds only what is
// missing.
func (m *Main) migrateRecipe(ctx context.Context, c migrateConfig) error {
	switch {
	case c.DynamoDBTablePrefix == "":
		return usageError{"migrate: --from-dynamodb needs --dynamodb-table-prefix (the recipe's \"${CHAT_APP_NAME}-\")"}
	case c.DryRun:
	case !slices.Contains([]string{"sqlite", "postgres", "dynamodb"}, c.To):
		return usageError{"migrate: --from-dynamodb needs --to sqlite|postgres|dynamodb (or --dry-run)"}
	case c.To == "dynamodb" && (c.ToDynamoDBTablePrefix == "" || c.ToDynamoDBTablePrefix == c.DynamoDBTablePrefix):
		return usageError{"migrate: --to dynamodb needs a --to-dynamodb-table-prefix other than the recipe's (to keep the recipe's tables, serve them in place: confab serve --store dynamodb --dynamodb-table-prefix P)"}
	}
	r, region, err := recipeSource(ctx, c)
	if err != nil {
		return err
	}
	cp := &recipeCopy{r: r, now: time.Now(), problem: func(err error) { fmt.Fprintln(m.Stderr, "not migrated:", err) }}
	if c.CognitoUsers != "" {
		if cp.cognito, cp.cognitoBad, err = readCognitoUsers(c.CognitoUsers); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	if !c.DryRun {
		dyn := dynamodb.Config{Region: region, Endpoint: c.DynamoDBEndpoint, TablePrefix: c.ToDynamoDBTablePrefix, CreateTables: true}
		if cp.dst, err = openStore(ctx, c.To, c.Data, c.Postgres, dyn, c.Workspace); err != nil {
			return err
		}
		defer cp.dst.Close()
	}
	if err := cp.run(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if n := cp.n; c.DryRun {
		fmt.Fprintf(m.Stdout, "dry run, nothing written: %d users (%d of them only named in conversations or messages), %d conversations, %d messages to migrate; %d items cannot be migrated\n",
			n.users, n.stubs, n.conversations, n.messages, n.problems)
	} else {
		fmt.Fprintf(m.Stdout, "migrated %d users (%d new), %d conversations (%d new), %d messages (%d new); %d items not migrated\n",
			n.users, n.usersAdded, n.conversations, n.conversationsAdded, n.messages, n.messagesAdded, n.problems)
	}
	if cp.n.problems > 0 {
		return fmt.Errorf("migrate: %d items not migrated (listed above); fix them and run again", cp.n.problems)
	}
	return nil
}

// recipeSource connects to the recipe's tables the AWS SDK's way
// (credentials from the environment, ~/.aws or a role) and checks that
// they exist. It returns the reader and the region in use.
func recipeSource(ctx context.Context, c migrateConfig) (*recipe.Reader, string, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(c.DynamoDBRegion))
	if err != nil {
		return nil, "", fmt.Errorf("migrate: AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, "", usageError{"migrate: --from-dynamodb needs --dynamodb-region (or AWS_REGION)"}
	}
	db := ddb.NewFromConfig(cfg, func(o *ddb.Options) {
		if c.DynamoDBEndpoint != "" {
			o.BaseEndpoint = &c.DynamoDBEndpoint
		}
	})
	r := recipe.New(db, recipe.TableNames(c.DynamoDBTablePrefix))
	if err := r.Check(ctx); err != nil {
		return nil, "", fmt.Errorf("migrate: %w", err)
	}
	return r, cfg.Region, nil
}

// recipeCopy copies a recipe deployment into dst, or only counts when dst
// is nil (dry run). Idempotent and resumable, because everything keeps the
// recipe's ids: users (the Cognito sub stays the userId, so old tokens'
// subjects map), conversations and messages; a user or conversation that
// dst already has is left as it is, and each message is appended with
// the client token "recipe:<messageId>", which the store deduplicates.
// Each conversation's messages are appended in the reader's order
// (createdAt, then messageId), so its seqs follow it without gaps, and
// the same on a second run; the store computes the summaries. Members'
// read marks are raised to the last migrated message: history counts as
// read. Conversations are copied recipeWorkers at a time.
type recipeCopy struct {
	r          *recipe.Reader
	dst        confab.Store
	now        time.Time
	problem    func(error)          // called with mu held
	cognito    []recipe.CognitoUser // the user pool's users, if given
	cognitoBad []error              // entries of the pool export that cannot be migrated

	mu     sync.Mutex
	known  map[string]bool   // guarded by mu: user ids that dst has (or would have, in a dry run)
	failed map[string]bool   // guarded by mu: user ids that cannot be migrated
	taken  map[string]string // guarded by mu: "username:U" and "email:E" of known users → their id
	n      recipeCount       // guarded by mu
}

// recipeWorkers is how many conversations are copied at once: enough for
// SQLite's group commit to batch appends and for PostgreSQL and DynamoDB
// round trips to overlap, few enough to keep DynamoDB reads under a
// table's default throughput.
const recipeWorkers = 8

type recipeCount struct {
	users, stubs, usersAdded          int
	conversations, conversationsAdded int
	messages, messagesAdded, problems int
}

func (cp *recipeCopy) report(err error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.reportLocked(err)
}

func (cp *recipeCopy) reportLocked(err error) {
	cp.n.problems++
	cp.problem(err)
}

func (cp *recipeCopy) run(ctx context.Context) error {
	cp.known, cp.failed, cp.taken = map[string]bool{}, map[string]bool{}, map[string]string{}
	if err := cp.users(ctx); err != nil {
		return err
	}
	return cp.conversations(ctx)
}

// users copies the Users table's users completed by the user pool's, and
// the pool's users who never used the chat.
func (cp *recipeCopy) users(ctx context.Context) error {
	accts, bad, err := cp.r.Users(ctx, cp.now)
	if err != nil {
		return err
	}
	for _, err := range slices.Concat(bad, cp.cognitoBad) {
		var inv *recipe.Invalid
		if errors.As(err, &inv) {
			cp.failed[inv.Key] = true // not even as a stub: fix the item and run again
		}
		cp.report(err)
	}
	pool := map[string]recipe.CognitoUser{}
	for _, u := range cp.cognito {
		pool[u.Sub] = u
	}
	for _, a := range accts {
		if u, ok := pool[a.User.UserID]; ok {
			u.Apply(a)
			delete(pool, u.Sub)
		}
		if _, err := cp.user(ctx, a, false); err != nil {
			return err
		}
	}
	for _, u := range cp.cognito { // users who never used the chat
		if _, ok := pool[u.Sub]; ok {
			a := recipe.StubAccount(u.Sub, u.CreatedAt)
			u.Apply(a)
			if _, err := cp.user(ctx, a, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// user makes sure dst has account a (stub: a user the Users table lacks),
// and reports whether it does (or would, in a dry run). An account dst
// already has is kept as it is.
func (cp *recipeCopy) user(ctx context.Context, a *confab.Account, stub bool) (bool, error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	id := a.User.UserID
	if cp.known[id] || cp.failed[id] {
		return cp.known[id], nil
	}
	names := []string{"username:" + strings.ToLower(a.User.Username), "email:" + strings.ToLower(a.User.Email)}
	err := recipe.CheckAccount(a)
	for _, name := range names {
		if other, ok := cp.taken[name]; ok && err == nil {
			err = fmt.Errorf("user %q has the same %s", other, strings.Replace(name, ":", " ", 1))
		}
	}
	if err != nil {
		cp.failed[id] = true
		cp.reportLocked(fmt.Errorf("recipe: user %q: %w", id, err))
		return false, nil
	}
	if cp.dst != nil {
		_, err := cp.dst.GetUser(ctx, id)
		if confab.ErrorCode(err) == confab.CodeNotFound {
			err = cp.dst.InsertAccount(ctx, a)
			if confab.ErrorCode(err) == confab.CodeConflict {
				cp.failed[id] = true
				cp.reportLocked(fmt.Errorf("recipe: user %q: another account has the username %q or the email %q", id, a.User.Username, a.User.Email))
				return false, nil
			}
			if err == nil {
				cp.n.usersAdded++
			}
		}
		if err != nil {
			return false, err
		}
	}
	cp.known[id] = true
	for _, name := range names {
		cp.taken[name] = id
	}
	cp.n.users++
	if stub {
		cp.n.stubs++
	}
	return true, nil
}

// conversations copies every conversation with its messages, then
// reports the messages of conversations the Conversations table lacks.
func (cp *recipeCopy) conversations(ctx context.Context) error {
	convs, bad, err := cp.r.Conversations(ctx)
	if err != nil {
		return err
	}
	counts, err := cp.r.CountMessages(ctx)
	if err != nil {
		return err
	}
	for _, err := range bad {
		var inv *recipe.Invalid
		if errors.As(err, &inv) && counts[inv.Key] > 0 {
			err = fmt.Errorf("%w (so are its %d messages)", err, counts[inv.Key])
			delete(counts, inv.Key)
		}
		cp.report(err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(recipeWorkers)
	for _, c := range convs {
		delete(counts, c.ConversationID)
		g.Go(func() error { return cp.conversation(gctx, c) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(counts)) {
		cp.report(fmt.Errorf("recipe: %d messages of conversation %q, which the %s table does not hold", counts[id], id, cp.r.Tables().Conversations))
	}
	return nil
}

// conversation copies c and its messages, unless a member cannot be
// migrated: then it reports c and copies nothing of it.
func (cp *recipeCopy) conversation(ctx context.Context, c *confab.Conversation) error {
	for _, mb := range c.Members {
		ok, err := cp.user(ctx, recipe.StubAccount(mb.UserID, c.CreatedAt), true)
		if err != nil {
			return err
		}
		if !ok {
			cp.report(fmt.Errorf("recipe: conversation %q and its messages: member %q cannot be migrated", c.ConversationID, mb.UserID))
			return nil
		}
	}
	msgs, bad, err := cp.r.Messages(ctx, c.ConversationID)
	if err != nil {
		return err
	}
	for _, err := range bad {
		cp.report(err)
	}
	added, err := cp.insertConversation(ctx, c)
	if err != nil {
		return err
	}
	var last int64
	var n int
	for _, msg := range msgs {
		// The author is a user even when not a member; a message whose
		// author cannot be migrated keeps its userId all the same.
		if _, err := cp.user(ctx, recipe.StubAccount(msg.UserID, msg.CreatedAt), true); err != nil {
			return err
		}
		if cp.dst == nil {
			continue
		}
		msg.ClientToken = "recipe:" + msg.MessageID
		created, err := cp.dst.AppendMessage(ctx, msg)
		if confab.ErrorCode(err) == confab.CodeConflict { // its messageId is another conversation's
			cp.report(fmt.Errorf("recipe: message %s/%s: another conversation has a message with this id", c.ConversationID, msg.MessageID))
			continue
		}
		if err != nil {
			return fmt.Errorf("conversation %s: message %s: %w", c.ConversationID, msg.MessageID, err)
		}
		if created {
			n++
		}
		last = msg.Seq
	}
	for _, mb := range c.Members {
		if last == 0 { // no messages, or a dry run
			break
		}
		if err := cp.dst.MarkRead(ctx, c.ConversationID, mb.UserID, last, time.Now().UTC()); err != nil {
			return err
		}
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.n.conversations++
	cp.n.messages += len(msgs)
	cp.n.messagesAdded += n
	if added {
		cp.n.conversationsAdded++
	}
	return nil
}

// insertConversation inserts c into dst unless dst has it already, and
// reports whether it did.
func (cp *recipeCopy) insertConversation(ctx context.Context, c *confab.Conversation) (bool, error) {
	if cp.dst == nil {
		return false, nil
	}
	_, err := cp.dst.GetConversation(ctx, c.ConversationID)
	if confab.ErrorCode(err) != confab.CodeNotFound {
		return false, err
	}
	if err := cp.dst.InsertConversation(ctx, c); err != nil {
		return false, err
	}
	return true, nil
}

// readCognitoUsers reads the user pool export at path (see
// recipe.ReadCognitoUsers).
func readCognitoUsers(path string) ([]recipe.CognitoUser, []error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return recipe.ReadCognitoUsers(f, filepath.Base(path))
}
