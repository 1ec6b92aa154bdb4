package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/broker/nats"
	"github.com/confab-chat/confab/store/postgres"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

// wire.go is the one place that names concrete implementations: the
// --store and --broker switches.

// openStore opens the store engine named by name: the embedded SQLite
// file in dataDir, or PostgreSQL at postgresURL.
func openStore(ctx context.Context, name, dataDir, postgresURL string) (confab.Store, error) {
	switch name {
	case "sqlite":
		return sqlite.Open(ctx, filepath.Join(dataDir, "confab.db"))
	case "postgres":
		if postgresURL == "" {
			return nil, usageError{"--store postgres needs --postgres URL"}
		}
		return postgres.Open(ctx, postgresURL)
	}
	return nil, usageError{fmt.Sprintf("unknown --store %q (want sqlite or postgres)", name)}
}

// openBroker opens the broker named by name: in-process, or NATS at natsURL.
func openBroker(name, natsURL string, logger *slog.Logger) (confab.Broker, error) {
	switch name {
	case "inproc":
		return inproc.New(), nil
	case "nats":
		if natsURL == "" {
			return nil, usageError{"--broker nats needs --nats URL"}
		}
		return nats.Open(natsURL, nats.WithLogger(logger))
	}
	return nil, usageError{fmt.Sprintf("unknown --broker %q (want inproc or nats)", name)}
}

// registerStoreMetrics exports the SQLite group-commit counters, when the
// store is SQLite: appends/batches is the batch size.
func registerStoreMetrics(reg *prometheus.Registry, st confab.Store) {
	s, ok := st.(*sqlite.Store)
	if !ok {
		return
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "confab_store_append_batches_total", Help: "Group-commit transactions (one fsync each)."},
			func() float64 { return float64(s.WriterStats().Batches) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "confab_store_appends_total", Help: "Messages appended by the group-commit writer."},
			func() float64 { return float64(s.WriterStats().Appends) }),
	)
}
