package main

import (
	"log/slog"
	"path/filepath"
	_ "time/tzdata" // quiet hours name IANA zones; a container may have no zoneinfo

	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/notify/webpush"
	"github.com/prometheus/client_golang/prometheus"
)

// webPush returns the Web Push channel on ps and the VAPID public key
// browsers subscribe with when --web-push is on; otherwise nothing, and
// pushPublicKey answers null.
func webPush(ps notify.PushStore, fanout *notify.PushFanout, c *serveConfig, reg prometheus.Registerer, logger *slog.Logger) ([]notify.Channel, string, error) {
	if !c.WebPush {
		return nil, "", nil
	}
	if c.VAPIDKeyFile == "" {
		c.VAPIDKeyFile = filepath.Join(c.Data, webpush.KeysFile)
	}
	keys, err := webpush.LoadKeys(c.VAPIDKeyFile)
	if err != nil {
		return nil, "", err
	}
	dropped := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "confab_push_subscriptions_dropped_total",
		Help: "Web Push subscriptions dropped because the push service answered 404 or 410.",
	})
	reg.MustRegister(dropped)
	ch, err := webpush.New(ps, webpush.Config{Keys: keys, Subject: c.VAPIDSubject, Fanout: fanout, Logger: logger, Dropped: dropped.Inc,
		AllowPrivate: c.PushAllowPrivate, Senders: c.PushSenders})
	if err != nil {
		return nil, "", err
	}
	return []notify.Channel{ch}, keys.Public, nil
}
