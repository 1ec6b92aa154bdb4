package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/notify/beforesend"
	"github.com/confab-chat/confab/notify/webhook"
	"github.com/prometheus/client_golang/prometheus"
)

// startOutbox starts the outbox worker with the webhook channel and the
// channels in more (Web Push) when st (unwrapped: the metered wrapper
// hides the outbox) has an outbox (every store confab ships has one;
// without, nothing leaves the process). The
// returned stop waits for the worker; wake makes it look for entries at
// once (see wakeOnCommit).
func startOutbox(st confab.Store, c *serveConfig, reg prometheus.Registerer, logger *slog.Logger, more ...notify.Channel) (stop, wake func(), err error) {
	ob, ok := st.(confab.OutboxStore)
	if !ok {
		logger.Warn("the store has no outbox: webhooks are off", "store", c.Store)
		return func() {}, func() {}, nil
	}
	deliveries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "confab_outbox_deliveries_total",
		Help: "Outbox deliveries settled, by channel and outcome (ok, retry, dead).",
	}, []string{"channel", "outcome"})
	disabled := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "confab_webhooks_disabled_total",
		Help: "Webhook endpoints disabled after failed deliveries in a row.",
	})
	reg.MustRegister(deliveries, disabled)
	lease := c.OutboxLease
	if lease <= 0 {
		lease = notify.DefaultLease
	}
	// A delivery ends well within its lease, or another node could claim
	// it while it is still under way.
	timeout := min(webhook.DefaultTimeout, lease/2)
	hooks := webhook.New(ob, webhook.Config{Timeout: timeout, DisableAfter: c.WebhookDisableAfter, Logger: logger, Disabled: disabled.Inc})
	retention := c.OutboxRetention
	if retention <= 0 {
		retention = notify.DefaultRetention
	}
	if c.Retention > 0 {
		// Delivered events carry message text: none outlives --retention.
		retention = min(retention, c.Retention)
	}
	w, err := notify.Open(ob, notify.Config{
		Owner: nodeName(), Lease: lease, Retention: retention, Logger: logger,
		Delivered: func(channel, outcome string) { deliveries.WithLabelValues(channel, outcome).Inc() },
	}, append([]notify.Channel{hooks}, more...)...)
	if err != nil {
		return nil, nil, err
	}
	return w.Close, w.Wake, nil
}

// wakeOnCommit returns st calling wake after each successful call that
// writes an outbox event (the OutboxStore doc lists them), so this node's
// worker delivers a webhook or a push at once instead of at its next
// poll. The wrapper hides st's other interfaces: wrap after taking them.
func wakeOnCommit(st confab.Store, wake func()) confab.Store {
	return &wakingStore{Store: st, wake: wake}
}

type wakingStore struct {
	confab.Store
	wake func()
}

// woke calls wake when err is nil and passes err on.
func (s *wakingStore) woke(err error) error {
	if err == nil {
		s.wake()
	}
	return err
}

func (s *wakingStore) AppendMessage(ctx context.Context, m *confab.Message) (bool, error) {
	created, err := s.Store.AppendMessage(ctx, m)
	return created, s.woke(err)
}

func (s *wakingStore) EditMessage(ctx context.Context, conversationID, messageID, content string, at time.Time) (*confab.Message, error) {
	m, err := s.Store.EditMessage(ctx, conversationID, messageID, content, at)
	return m, s.woke(err)
}

func (s *wakingStore) DeleteMessage(ctx context.Context, conversationID, messageID, byUserID string, at time.Time) (*confab.Message, *confab.Conversation, error) {
	m, c, err := s.Store.DeleteMessage(ctx, conversationID, messageID, byUserID, at)
	return m, c, s.woke(err)
}

func (s *wakingStore) AddReaction(ctx context.Context, r *confab.Reaction, maxKeys int) (bool, *confab.Message, error) {
	added, m, err := s.Store.AddReaction(ctx, r, maxKeys)
	return added, m, s.woke(err)
}

func (s *wakingStore) InsertConversation(ctx context.Context, c *confab.Conversation) error {
	return s.woke(s.Store.InsertConversation(ctx, c))
}

func (s *wakingStore) UpdateConversation(ctx context.Context, conversationID, userID string, u confab.ConversationUpdate, at time.Time) (*confab.Conversation, error) {
	c, err := s.Store.UpdateConversation(ctx, conversationID, userID, u, at)
	return c, s.woke(err)
}

func (s *wakingStore) InsertAccount(ctx context.Context, a *confab.Account) error {
	return s.woke(s.Store.InsertAccount(ctx, a))
}

func (s *wakingStore) AddMembers(ctx context.Context, conversationID, byUserID string, members []confab.Member, maxMembers int, at time.Time) ([]confab.Member, *confab.Conversation, error) {
	added, c, err := s.Store.AddMembers(ctx, conversationID, byUserID, members, maxMembers, at)
	return added, c, s.woke(err)
}

func (s *wakingStore) RemoveMember(ctx context.Context, conversationID, userID, byUserID string, at time.Time) (*confab.Conversation, error) {
	c, err := s.Store.RemoveMember(ctx, conversationID, userID, byUserID, at)
	return c, s.woke(err)
}

// nodeName names this process in outbox leases: host, pid and a random
// suffix, so a restarted process never takes over its predecessor's
// leases before they expire.
func nodeName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "confab"
	}
	b := make([]byte, 4)
	rand.Read(b) // never fails (crypto/rand)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// beforeSendOptions returns the chat option of --before-send-url, if set.
func beforeSendOptions(c *serveConfig, reg prometheus.Registerer, logger *slog.Logger) ([]chat.Option, error) {
	if c.BeforeSendURL == "" {
		return nil, nil
	}
	failed := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "confab_before_send_failures_total",
		Help: "Before-send hook calls that failed (timeout, error status, bad answer); see --before-send-fail.",
	})
	reg.MustRegister(failed)
	h, err := beforesend.New(beforesend.Config{URL: c.BeforeSendURL, Timeout: c.BeforeSendTimeout, Fail: c.BeforeSendFail,
		Secret: c.BeforeSendSecret, Logger: logger, Failed: failed.Inc})
	if err != nil {
		return nil, usageError{"serve: --before-send-*: " + err.Error()}
	}
	return []chat.Option{chat.WithBeforeSend(h)}, nil
}
