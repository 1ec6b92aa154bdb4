package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/notify/beforesend"
	"github.com/confab-chat/confab/notify/webhook"
	"github.com/prometheus/client_golang/prometheus"
)

// startOutbox starts the outbox worker with the webhook channel and the
// channels in more (Web Push) when st (unwrapped: the metered wrapper
// hides the outbox) has an outbox; the
// DynamoDB store has none yet, and then nothing leaves the process. The
// returned stop waits for the worker.
func startOutbox(st confab.Store, c *serveConfig, reg *prometheus.Registry, logger *slog.Logger, more ...notify.Channel) (stop func(), err error) {
	ob, ok := st.(confab.OutboxStore)
	if !ok {
		logger.Warn("the store has no outbox: webhooks are off", "store", c.Store)
		return func() {}, nil
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
		return nil, err
	}
	return w.Close, nil
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
func beforeSendOptions(c *serveConfig, reg *prometheus.Registry, logger *slog.Logger) ([]chat.Option, error) {
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
