package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/notify/webhook"
	"github.com/confab-chat/confab/store/dynamodb"
)

const webhookUsage = `usage: confab webhook <command> [flags]

  add --url U --events E[,E…] [--secret S]   add an endpoint; prints its id and signing secret
  list                                        list endpoints
  remove ID                                   remove an endpoint (deliveries still queued give up)
  enable ID                                   re-enable an endpoint disabled after failures
  replay --from T [--webhook ID]              deliver again the events since T (RFC 3339, or a duration ago: 2h)

events: ` + "all, or any of " + "message.sent, message.edited, message.deleted, reaction.added, conversation.created, conversation.updated, user.created" + `
`

// replayBatch is how many events a replay reads per store call.
const replayBatch = 500

type webhookConfig struct {
	Data, Store, Postgres string
	URL, Events, Secret   string
	From, Webhook         string
	Workspace             string
	DynamoDB              dynamodb.Config
}

func webhookSettings(c *webhookConfig) []setting {
	return append([]setting{
		{"data", "./confab-data", "data directory", str(&c.Data)},
		{"store", "sqlite", "store engine: sqlite, postgres or dynamodb", str(&c.Store)},
		{"postgres", "", "PostgreSQL URL for --store postgres", str(&c.Postgres)},
		{"url", "", "add: the endpoint URL (http or https)", str(&c.URL)},
		{"events", "", "add: comma-separated events, or all", str(&c.Events)},
		{"secret", "", "add: the signing secret (whsec_ and base64 of 16 to 64 bytes); default: a new random one", str(&c.Secret)},
		{"from", "", "replay: the first event time, RFC 3339 or a duration ago (2h)", str(&c.From)},
		{"webhook", "", "replay: only to this endpoint (default: every endpoint that wants each event)", str(&c.Webhook)},
		workspaceSetting(&c.Workspace),
	}, dynamoSettings(&c.DynamoDB)...)
}

// webhook runs "confab webhook …": the endpoints live in the store, so
// every node sees a change at its next delivery.
func (m *Main) webhook(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{webhookUsage}
	}
	cmd := args[0]
	var c webhookConfig
	fs := flag.NewFlagSet("webhook "+cmd, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = usage(fs, webhookUsage)
	if err := parse(fs, webhookSettings(&c), args[1:], m.Getenv, m.Environ); err != nil {
		return err
	}
	run := map[string]func(context.Context, confab.OutboxStore, *webhookConfig, []string) error{
		"add": m.webhookAdd, "list": m.webhookList, "remove": webhookRemove, "enable": webhookEnable, "replay": m.webhookReplay,
	}[cmd]
	if run == nil {
		return usageError{fmt.Sprintf("webhook: unknown command %q\n%s", cmd, webhookUsage)}
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
	ob, ok := st.(confab.OutboxStore)
	if !ok {
		return usageError{fmt.Sprintf("webhook: the %s store has no outbox", c.Store)}
	}
	return run(ctx, ob, &c, fs.Args())
}

func (m *Main) webhookAdd(ctx context.Context, st confab.OutboxStore, c *webhookConfig, _ []string) error {
	if err := notify.CheckURL(c.URL); err != nil {
		return usageError{"webhook add: --url: " + err.Error()}
	}
	events, err := parseEvents(c.Events)
	if err != nil {
		return usageError{"webhook add: --events: " + err.Error()}
	}
	if c.Secret == "" {
		c.Secret = webhook.NewSecret()
	}
	if _, err := webhook.SecretKey(c.Secret); err != nil {
		return usageError{"webhook add: --secret: " + err.Error()}
	}
	b := make([]byte, 8)
	rand.Read(b) // never fails (crypto/rand)
	w := &confab.Webhook{WebhookID: "wh_" + hex.EncodeToString(b), URL: c.URL, Events: events, Secret: c.Secret, CreatedAt: time.Now().UTC()}
	if err := st.InsertWebhook(ctx, w); err != nil {
		return fmt.Errorf("webhook add: %w", err)
	}
	fmt.Fprintf(m.Stdout, "%s\n%s\n", w.WebhookID, w.Secret)
	return nil
}

// parseEvents reads a comma-separated list of events, or "all".
func parseEvents(s string) ([]confab.OutboxEvent, error) {
	if strings.TrimSpace(s) == "all" {
		return confab.OutboxEvents, nil
	}
	var out []confab.OutboxEvent
	for _, name := range splitList(s) {
		e := confab.OutboxEvent(name)
		if !confab.ValidOutboxEvent(e) {
			return nil, fmt.Errorf("unknown event %q", name)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("name at least one event, or all")
	}
	return out, nil
}

func (m *Main) webhookList(ctx context.Context, st confab.OutboxStore, _ *webhookConfig, _ []string) error {
	hooks, err := st.ListWebhooks(ctx)
	if err != nil {
		return fmt.Errorf("webhook list: %w", err)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tURL\tEVENTS\tSTATE")
	for _, w := range hooks {
		state := "enabled"
		if w.DisabledAt != nil {
			state = fmt.Sprintf("disabled %s after %d failures", w.DisabledAt.Format(time.RFC3339), w.Failures)
		}
		events := make([]string, len(w.Events))
		for i, e := range w.Events {
			events[i] = string(e)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", w.WebhookID, w.URL, strings.Join(events, ","), state)
	}
	return tw.Flush()
}

func oneID(cmd string, args []string) (string, error) {
	if len(args) != 1 {
		return "", usageError{fmt.Sprintf("usage: confab webhook %s ID", cmd)}
	}
	return args[0], nil
}

func webhookRemove(ctx context.Context, st confab.OutboxStore, _ *webhookConfig, args []string) error {
	id, err := oneID("remove", args)
	if err != nil {
		return err
	}
	if err := st.DeleteWebhook(ctx, id); err != nil {
		return fmt.Errorf("webhook remove %s: %w", id, err)
	}
	return nil
}

func webhookEnable(ctx context.Context, st confab.OutboxStore, _ *webhookConfig, args []string) error {
	id, err := oneID("enable", args)
	if err != nil {
		return err
	}
	if err := st.EnableWebhook(ctx, id); err != nil {
		return fmt.Errorf("webhook enable %s: %w", id, err)
	}
	return nil
}

// webhookReplay queues a delivery of every kept event since --from to
// every endpoint that wants it (or to --webhook). Deliveries keep their
// event's id, so a receiver that had one already sees a duplicate it can
// drop. Events older than the outbox retention are gone.
func (m *Main) webhookReplay(ctx context.Context, st confab.OutboxStore, c *webhookConfig, _ []string) error {
	from, err := parseFrom(c.From, time.Now())
	if err != nil {
		return usageError{"webhook replay: --from: " + err.Error()}
	}
	hooks, err := st.ListWebhooks(ctx)
	if err != nil {
		return fmt.Errorf("webhook replay: %w", err)
	}
	if c.Webhook != "" {
		hooks = keepWebhook(hooks, c.Webhook)
		if len(hooks) == 0 {
			return usageError{fmt.Sprintf("webhook replay: no webhook %q", c.Webhook)}
		}
	}
	var after int64
	queued := 0
	for {
		events, err := st.ListOutboxEvents(ctx, from, after, replayBatch)
		if err != nil {
			return fmt.Errorf("webhook replay: %w", err)
		}
		var ds []*confab.OutboxEntry
		for _, ev := range events {
			for _, w := range hooks {
				if w.Wants(ev.Event) {
					d := webhook.Delivery(ev, w.WebhookID)
					d.NotBefore = time.Now().UTC()
					ds = append(ds, d)
				}
			}
			after = ev.ID
		}
		if err := st.InsertOutbox(ctx, ds); err != nil {
			return fmt.Errorf("webhook replay: %w", err)
		}
		queued += len(ds)
		if len(events) < replayBatch {
			break
		}
	}
	fmt.Fprintf(m.Stdout, "queued %d deliveries\n", queued)
	return nil
}

func keepWebhook(hooks []*confab.Webhook, id string) []*confab.Webhook {
	for _, w := range hooks {
		if w.WebhookID == id {
			return []*confab.Webhook{w}
		}
	}
	return nil
}

// parseFrom reads an RFC 3339 time, or a duration before now.
func parseFrom(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("required")
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", s)
	}
	return t, nil
}
