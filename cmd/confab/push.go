package main

import (
	"log/slog"
	"path/filepath"
	_ "time/tzdata" // quiet hours name IANA zones; a container may have no zoneinfo

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/notify/webpush"
	"github.com/prometheus/client_golang/prometheus"
)

// webPush returns the Web Push channel and the registration service when
// --web-push is on and the store keeps subscriptions (it has an outbox
// too); otherwise nothing, and pushPublicKey answers null.
func webPush(st confab.Store, c *serveConfig, reg *prometheus.Registry, logger *slog.Logger) ([]notify.Channel, []chat.Option, error) {
	ps, ok := st.(interface {
		webpush.Store
		confab.OutboxStore
	})
	if !c.WebPush || !ok {
		if c.WebPush {
			logger.Warn("the store keeps no push subscriptions: Web Push is off", "store", c.Store)
		}
		return nil, nil, nil
	}
	if c.VAPIDKeyFile == "" {
		c.VAPIDKeyFile = filepath.Join(c.Data, webpush.KeysFile)
	}
	keys, err := webpush.LoadKeys(c.VAPIDKeyFile)
	if err != nil {
		return nil, nil, err
	}
	dropped := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "confab_push_subscriptions_dropped_total",
		Help: "Web Push subscriptions dropped because the push service answered 404 or 410.",
	})
	reg.MustRegister(dropped)
	ch, err := webpush.New(ps, webpush.Config{Keys: keys, Subject: c.VAPIDSubject, Logger: logger, Dropped: dropped.Inc, AllowPrivate: c.PushAllowPrivate})
	if err != nil {
		return nil, nil, err
	}
	return []notify.Channel{ch}, []chat.Option{chat.WithPush(chat.NewPush(ps, keys.Public))}, nil
}
