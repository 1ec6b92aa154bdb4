package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/admin"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/broker/namespace"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/store/dynamodb"
)

// adminConfig holds the settings of `confab admin`: where the data is
// (as for confab serve), and the broker through which the command's
// effects reach running servers at once.
type adminConfig struct {
	Data, Store, Postgres, KeyFile, UserPoolID string
	Broker, NATS                               string
	Workspace                                  string
	Blob                                       blobConfig
	DynamoDB                                   dynamodb.Config
}

func adminSettings(c *adminConfig) []setting {
	s := []setting{
		{"data", "./confab-data", "data directory", str(&c.Data)},
		{"store", "sqlite", "store engine: sqlite, postgres or dynamodb", str(&c.Store)},
		{"postgres", "", "PostgreSQL URL for --store postgres", str(&c.Postgres)},
		{"key-file", "", "JWT signing key (default <data>/jwt-signing-key.pem)", str(&c.KeyFile)},
		{"user-pool-id", defaultUserPoolID, "the user pool id the server runs with (as confab serve --user-pool-id): reset-password stores an SRP verifier that depends on it", str(&c.UserPoolID)},
		{"broker", "inproc", "the servers' broker: with nats, sign-outs close live connections and members see deletions and archives at once; with inproc, they take effect at the clients' next request (a disabled user's open connections within a minute)", str(&c.Broker)},
		{"nats", "", "NATS URL for --broker nats", str(&c.NATS)},
		workspaceSetting(&c.Workspace),
	}
	for _, b := range blobSettings(&c.Blob) { // where files are, to delete them; not the upload limits
		if b.name == "blob" || strings.HasPrefix(b.name, "s3-") {
			s = append(s, b)
		}
	}
	return append(s, dynamoSettings(&c.DynamoDB)...)
}

// adminFlags are the flags of the admin commands themselves; only the
// commands that name one accept it.
type adminFlags struct {
	search, reason, until, status, resolution, conversation, user string
	deleteMessages                                                bool
	days, top, limit                                              int
	untilTime                                                     *time.Time // --until, parsed
}

// check parses what can be checked before anything is opened.
func (f *adminFlags) check() error {
	if f.until == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, f.until)
	if err != nil {
		return usageError{fmt.Sprintf("admin ban: --until %q is not an RFC 3339 time like 2030-01-02T15:04:05Z", f.until)}
	}
	f.untilTime = &t
	return nil
}

// adminCommand is one `confab admin` command: its argument (none, a login
// or an id), the flags it takes, and what it does.
type adminCommand struct {
	arg   string // the positional argument's name; "" for none
	flags []string
	help  string
	run   func(ctx context.Context, env *adminEnv, f *adminFlags, arg string) error
}

var adminCommands = map[string]adminCommand{
	"users":               {"", []string{"search", "limit"}, "list accounts (--search: username, e-mail or id prefix)", adminUsers},
	"disable":             {"login", []string{"reason"}, "disable an account and sign it out everywhere", adminDisable(true)},
	"enable":              {"login", nil, "enable a disabled account", adminDisable(false)},
	"delete":              {"login", []string{"delete-messages", "reason"}, "delete an account (--delete-messages: its messages too)", adminDelete},
	"reset-password":      {"login", nil, "set and print a temporary password, to be changed at the next sign-in", adminResetPassword},
	"sign-out":            {"login", nil, "end every session of an account", adminSignOut},
	"grant":               {"login", nil, "make a user a server administrator", adminGrant(true)},
	"revoke":              {"login", nil, "take the server administrator role away", adminGrant(false)},
	"ban":                 {"login", []string{"until", "reason"}, "ban from the server (disabled) until --until (RFC 3339) or for good", adminBan},
	"unban":               {"login", nil, "lift a server ban and enable the account", adminUnban},
	"conversations":       {"", []string{"limit"}, "list every conversation", adminConversations},
	"archive":             {"conversationId", nil, "archive a conversation (read-only for everyone)", adminArchive(true)},
	"unarchive":           {"conversationId", nil, "unarchive a conversation", adminArchive(false)},
	"delete-conversation": {"conversationId", []string{"reason"}, "delete a conversation with its messages and files", adminDeleteConversation},
	"reports":             {"", []string{"status", "limit"}, "list the reports queue, newest first", adminReports},
	"resolve":             {"reportId", []string{"status", "resolution"}, "close a report: --status RESOLVED|DISMISSED", adminResolve},
	"audit":               {"", []string{"conversation", "user", "limit"}, "list the audit log, newest first", adminAudit},
	"usage":               {"", []string{"days", "top"}, "usage of the last --days days", adminUsage},
	"export-user":         {"login", nil, "write everything kept about a user to stdout as JSON", adminExport},
}

// registerAdminFlags defines on fs the flags a command takes.
func registerAdminFlags(fs *flag.FlagSet, names []string, f *adminFlags) {
	for _, n := range names {
		switch n {
		case "search":
			fs.StringVar(&f.search, n, "", "only accounts whose username, e-mail address or user id starts with this")
		case "reason":
			fs.StringVar(&f.reason, n, "", "why, for the audit log")
		case "until":
			fs.StringVar(&f.until, n, "", "end of the ban, RFC 3339 (default: for good)")
		case "status":
			fs.StringVar(&f.status, n, "", "report status: OPEN, RESOLVED or DISMISSED")
		case "resolution":
			fs.StringVar(&f.resolution, n, "", "note on what was done")
		case "conversation":
			fs.StringVar(&f.conversation, n, "", "only entries of this conversation")
		case "user":
			fs.StringVar(&f.user, n, "", "only entries about this user id")
		case "delete-messages":
			fs.BoolVar(&f.deleteMessages, n, false, "delete the account's messages too (otherwise they stay, with no author)")
		case "days":
			fs.IntVar(&f.days, n, confab.DefaultUsageDays, fmt.Sprintf("days up to today, at most %d", confab.MaxUsageDays))
		case "top":
			fs.IntVar(&f.top, n, admin.DefaultTop, fmt.Sprintf("busiest conversations shown, at most %d", admin.MaxTopConversations))
		case "limit":
			fs.IntVar(&f.limit, n, 0, "print at most this many (0: all)")
		default:
			panic("admin: unknown flag " + n) // adminCommands names only the flags above
		}
	}
}

const adminUsageTitle = "usage: confab admin <command> [flags] [login|id]"

func adminTopUsage() string {
	var b strings.Builder
	b.WriteString(adminUsageTitle + "\n\nThe command line acts as the server's owner: it needs no administrator account\n(confab admin grant <login> makes the first one). Every change is in the audit log.\n\ncommands:\n")
	for _, name := range slices.Sorted(maps.Keys(adminCommands)) {
		c := adminCommands[name]
		arg := ""
		if c.arg != "" {
			arg = " <" + c.arg + ">"
		}
		fmt.Fprintf(&b, "  %-40s %s\n", name+arg, c.help)
	}
	return b.String()
}

// admin runs `confab admin <command>`: the admin API from the command line,
// on the data directory or database the servers use.
func (m *Main) admin(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(m.Stderr, adminTopUsage())
		if len(args) == 0 {
			return usageError{"admin: no command given"}
		}
		return nil
	}
	name := args[0]
	cmd, ok := adminCommands[name]
	if !ok {
		fmt.Fprint(m.Stderr, adminTopUsage())
		return usageError{fmt.Sprintf("admin: unknown command %q", name)}
	}
	var c adminConfig
	var f adminFlags
	fs := flag.NewFlagSet("admin "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = usage(fs, "usage: confab admin "+name+" [flags]"+map[bool]string{true: " <" + cmd.arg + ">"}[cmd.arg != ""])
	registerAdminFlags(fs, cmd.flags, &f)
	if err := parse(fs, adminSettings(&c), args[1:], m.Getenv, m.Environ); err != nil {
		return err
	}
	arg, err := positional(fs, cmd.arg, name)
	if err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	env, err := m.openAdmin(ctx, &c)
	if err != nil {
		return err
	}
	defer env.close()
	if err := cmd.run(ctx, env, &f, arg); err != nil {
		return fmt.Errorf("admin %s: %s", name, errorText(err))
	}
	return nil
}

// positional returns the one argument a command takes (flags may follow
// it), or none.
func positional(fs *flag.FlagSet, arg, name string) (string, error) {
	if arg == "" {
		if fs.NArg() > 0 {
			return "", usageError{fmt.Sprintf("admin %s takes no argument (got %q)", name, fs.Arg(0))}
		}
		return "", nil
	}
	if fs.NArg() == 0 {
		return "", usageError{fmt.Sprintf("admin %s: the %s is required", name, arg)}
	}
	v := fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", usageError{fmt.Sprintf("admin %s takes one %s (got also %q)", name, arg, fs.Arg(0))}
	}
	return v, nil
}

// errorText is what the command line shows of an error: a service error's
// message for users, or the error itself.
func errorText(err error) string {
	var e *confab.Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return err.Error()
}

// adminEnv is what an admin command works with.
type adminEnv struct {
	svc    *admin.Service
	out    io.Writer
	closes []func()
}

func (e *adminEnv) close() {
	for i := len(e.closes) - 1; i >= 0; i-- {
		e.closes[i]()
	}
}

// openAdmin opens the store, the broker, the account and chat services
// and files the way confab serve does.
func (m *Main) openAdmin(ctx context.Context, c *adminConfig) (env *adminEnv, err error) {
	env = &adminEnv{out: m.Stdout}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := checkWorkspaceFlag(c.Workspace); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Data, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	st, err := openStore(ctx, c.Store, c.Data, c.Postgres, c.DynamoDB, c.Workspace)
	if err != nil {
		return nil, err
	}
	env.closes = append(env.closes, func() { st.Close() })
	br, err := openBroker(c.Broker, c.NATS, logger)
	if err != nil {
		return nil, err
	}
	env.closes = append(env.closes, func() { br.Close() })
	br = namespace.New(br, c.Workspace) // the workspace's subjects
	if c.KeyFile == "" {
		c.KeyFile = filepath.Join(c.Data, "jwt-signing-key.pem")
	}
	authSvc, err := auth.New(st, auth.Config{KeyFile: c.KeyFile, UserPoolID: workspacePoolID(c.UserPoolID, c.Workspace), Workspace: confab.Workspace{ID: c.Workspace}})
	if err != nil {
		return nil, err
	}
	revocations, err := authSvc.ShareRevocations(br, logger)
	if err != nil {
		return nil, err
	}
	env.closes = append(env.closes, func() { revocations.Unsubscribe() })
	blobs := c.Blob
	blobs.Prefix = workspaceBlobPrefix(c.Workspace)
	fileOpts, _, err := openBlobs(ctx, blobs, workspaceDir(c.Data, c.Workspace), "", st, imagePool(blobs), logger)
	if err != nil {
		return nil, err
	}
	chatSvc := chat.New(st, br, chat.Config{}, append(fileOpts, chat.WithLogger(logger))...)
	env.closes = append(env.closes, chatSvc.Close)
	env.svc = admin.New(st, chatSvc, authSvc)
	return env, nil
}

func adminUsers(ctx context.Context, env *adminEnv, f *adminFlags, _ string) error {
	tw := tabwriter.NewWriter(env.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER ID\tUSERNAME\tEMAIL\tADMIN\tDISABLED\tBANNED UNTIL")
	err := eachPage(f.limit, func(limit *int, token *string) (*string, int, error) {
		page, err := env.svc.ListUsers(ctx, admin.CommandLine(), f.search, limit, token)
		if err != nil {
			return nil, 0, err
		}
		for _, u := range page.Items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\t%s\n", u.User.UserID, u.User.Username, u.User.Email, u.User.Admin, u.Disabled, banText(u.Ban))
		}
		return page.NextToken, len(page.Items), nil
	})
	if err != nil {
		return err
	}
	return tw.Flush()
}

// eachPage calls list for pages of a list until the last one, or until
// max items (0: no bound) were listed.
func eachPage(max int, list func(limit *int, token *string) (next *string, n int, err error)) error {
	var token *string
	for seen := 0; ; {
		n := confab.MaxAuditPageLimit // the smaller of the admin lists' page limits
		if max > 0 {
			n = min(n, max-seen)
		}
		next, got, err := list(&n, token)
		if err != nil {
			return err
		}
		seen += got
		if next == nil || (max > 0 && seen >= max) {
			return nil
		}
		token = next
	}
}

func banText(b *confab.Ban) string {
	switch {
	case b == nil:
		return "-"
	case b.Until == nil:
		return "forever"
	}
	return b.Until.UTC().Format(time.RFC3339)
}

func adminDisable(disabled bool) func(context.Context, *adminEnv, *adminFlags, string) error {
	return func(ctx context.Context, env *adminEnv, f *adminFlags, login string) error {
		u, err := env.svc.SetUserDisabled(ctx, admin.CommandLine(), login, disabled, f.reason)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.out, "%s disabled=%v\n", u.User.UserID, u.Disabled)
		return nil
	}
}

func adminDelete(ctx context.Context, env *adminEnv, f *adminFlags, login string) error {
	if err := env.svc.DeleteUser(ctx, admin.CommandLine(), login, f.deleteMessages, f.reason); err != nil {
		return err
	}
	fmt.Fprintf(env.out, "%s deleted\n", login)
	return nil
}

func adminResetPassword(ctx context.Context, env *adminEnv, _ *adminFlags, login string) error {
	pw, err := env.svc.ResetPassword(ctx, admin.CommandLine(), login)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.out, pw)
	return nil
}

func adminSignOut(ctx context.Context, env *adminEnv, _ *adminFlags, login string) error {
	if err := env.svc.SignOutUser(ctx, admin.CommandLine(), login); err != nil {
		return err
	}
	fmt.Fprintf(env.out, "%s signed out\n", login)
	return nil
}

func adminGrant(grant bool) func(context.Context, *adminEnv, *adminFlags, string) error {
	return func(ctx context.Context, env *adminEnv, _ *adminFlags, login string) error {
		u, err := env.svc.SetAdmin(ctx, admin.CommandLine(), login, grant)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.out, "%s admin=%v\n", u.User.UserID, u.User.Admin)
		return nil
	}
}

func adminBan(ctx context.Context, env *adminEnv, f *adminFlags, login string) error {
	u, err := env.svc.BanUser(ctx, admin.CommandLine(), login, f.untilTime, f.reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.out, "%s banned until %s\n", u.User.UserID, banText(u.Ban))
	return nil
}

func adminUnban(ctx context.Context, env *adminEnv, _ *adminFlags, login string) error {
	u, err := env.svc.UnbanUser(ctx, admin.CommandLine(), login)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.out, "%s unbanned\n", u.User.UserID)
	return nil
}

func adminConversations(ctx context.Context, env *adminEnv, f *adminFlags, _ string) error {
	tw := tabwriter.NewWriter(env.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONVERSATION ID\tNAME\tMEMBERS\tMESSAGES\tARCHIVED")
	err := eachPage(f.limit, func(limit *int, token *string) (*string, int, error) {
		page, err := env.svc.ListConversations(ctx, admin.CommandLine(), limit, token)
		if err != nil {
			return nil, 0, err
		}
		for _, c := range page.Items {
			name := "-"
			if c.Name != nil {
				name = *c.Name
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%v\n", c.ConversationID, name, len(c.Members), c.MessageCount, c.ArchivedAt != nil)
		}
		return page.NextToken, len(page.Items), nil
	})
	if err != nil {
		return err
	}
	return tw.Flush()
}

func adminArchive(archived bool) func(context.Context, *adminEnv, *adminFlags, string) error {
	return func(ctx context.Context, env *adminEnv, _ *adminFlags, id string) error {
		c, err := env.svc.SetArchived(ctx, admin.CommandLine(), id, archived)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.out, "%s archived=%v\n", c.ConversationID, c.ArchivedAt != nil)
		return nil
	}
}

func adminDeleteConversation(ctx context.Context, env *adminEnv, f *adminFlags, id string) error {
	if err := env.svc.DeleteConversation(ctx, admin.CommandLine(), id, f.reason); err != nil {
		return err
	}
	fmt.Fprintf(env.out, "%s deleted\n", id)
	return nil
}

func adminReports(ctx context.Context, env *adminEnv, f *adminFlags, _ string) error {
	tw := tabwriter.NewWriter(env.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REPORT ID\tCREATED\tSTATUS\tREPORTER\tUSER\tCONVERSATION\tMESSAGE\tREASON")
	err := eachPage(f.limit, func(limit *int, token *string) (*string, int, error) {
		page, err := env.svc.ListReports(ctx, admin.CommandLine(), confab.ReportStatus(strings.ToUpper(f.status)), limit, token)
		if err != nil {
			return nil, 0, err
		}
		for _, r := range page.Items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%q\n", r.ReportID, r.CreatedAt.Format(time.RFC3339), r.Status, r.ReporterID,
				r.UserID, dash(r.ConversationID), dash(r.MessageID), r.Reason)
		}
		return page.NextToken, len(page.Items), nil
	})
	if err != nil {
		return err
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func adminResolve(ctx context.Context, env *adminEnv, f *adminFlags, id string) error {
	r, err := env.svc.ResolveReport(ctx, admin.CommandLine(), id, confab.ReportStatus(strings.ToUpper(f.status)), f.resolution)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.out, "%s %s\n", r.ReportID, r.Status)
	return nil
}

func adminAudit(ctx context.Context, env *adminEnv, f *adminFlags, _ string) error {
	tw := tabwriter.NewWriter(env.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tACTOR\tACTION\tCONVERSATION\tUSER\tMESSAGE\tUNTIL\tREASON\tDETAIL")
	err := eachPage(f.limit, func(limit *int, token *string) (*string, int, error) {
		page, err := env.svc.ListAudit(ctx, admin.CommandLine(), f.conversation, f.user, limit, token)
		if err != nil {
			return nil, 0, err
		}
		for _, e := range page.Items {
			until := "-"
			if e.Until != nil {
				until = e.Until.UTC().Format(time.RFC3339)
			}
			actor := e.ActorID
			if actor == "" {
				actor = "(command line)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%q\t%q\n", e.At.UTC().Format(time.RFC3339), actor, e.Action,
				dash(e.ConversationID), dash(e.UserID), dash(e.MessageID), until, e.Reason, e.Detail)
		}
		return page.NextToken, len(page.Items), nil
	})
	if err != nil {
		return err
	}
	return tw.Flush()
}

func adminUsage(ctx context.Context, env *adminEnv, f *adminFlags, _ string) error {
	u, err := env.svc.Usage(ctx, admin.CommandLine(), &f.days, &f.top)
	if err != nil {
		return err
	}
	const day = "2006-01-02"
	fmt.Fprintf(env.out, "from %s to %s\nusers %d\nconversations %d\nstorage bytes %d\n\n", u.From.Format(day), u.To.Format(day), u.Users, u.Conversations, u.StorageBytes)
	tw := tabwriter.NewWriter(env.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DAY\tMESSAGES\tACTIVE USERS")
	for i, d := range u.MessagesPerDay {
		active := 0
		if i < len(u.ActiveUsersPerDay) {
			active = u.ActiveUsersPerDay[i].Count
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\n", d.Day.Format(day), d.Count, active)
	}
	fmt.Fprintln(tw, "\nWEEK OF\tACTIVE USERS\t")
	for _, w := range u.ActiveUsersPerWeek {
		fmt.Fprintf(tw, "%s\t%d\t\n", w.Day.Format(day), w.Count)
	}
	fmt.Fprintln(tw, "\nCONVERSATION ID\tMESSAGES\tNAME")
	for _, c := range u.TopConversations {
		name := "-"
		if n := u.Names[c.ConversationID]; n != nil {
			name = *n
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", c.ConversationID, c.Messages, name)
	}
	return tw.Flush()
}

func adminExport(ctx context.Context, env *adminEnv, _ *adminFlags, login string) error {
	return env.svc.ExportUser(ctx, admin.CommandLine(), login, env.out)
}
