package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/prometheus/client_golang/prometheus"
)

// startRetention starts the retention job (--retention) on its own
// goroutine when maxAge > 0, and registers confab_retention_purged_total
// on reg either way (0 when off). The returned stop cancels the job and
// waits for it to return: call it before the store closes.
func startRetention(ctx context.Context, maxAge time.Duration, st confab.MessageStore, reg prometheus.Registerer, logger *slog.Logger) (stop func()) {
	r := &chat.Retention{Store: st, MaxAge: maxAge, Logger: logger}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "confab_retention_purged_total",
		Help: "Messages deleted for good because they were older than --retention.",
	}, func() float64 { return float64(r.Purged()) }))
	if maxAge <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	logger.Info("retention on", "max_age", maxAge.String())
	return func() {
		cancel()
		<-done
	}
}
