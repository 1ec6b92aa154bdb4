package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/broker/nats"
	"github.com/confab-chat/confab/mail/smtp"
	"github.com/confab-chat/confab/server"
	"github.com/confab-chat/confab/store/dynamodb"
	"github.com/confab-chat/confab/store/metered"
	"github.com/confab-chat/confab/store/postgres"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

// wire.go is the one place that names concrete implementations: the
// --store, --broker and --smtp-url switches.

// openStore opens workspace's namespace ("" for the default workspace) of
// the store engine named by name: the embedded SQLite file in dataDir
// (a workspace's: <data>/workspaces/<id>/confab.db), PostgreSQL at
// postgresURL (a workspace's: schema ws_<id>), or DynamoDB as dyn says (a
// workspace's tables: <prefix>ws-<id>-…).
func openStore(ctx context.Context, name, dataDir, postgresURL string, dyn dynamodb.Config, workspace string) (confab.Store, error) {
	switch name {
	case "sqlite":
		dir := workspaceDir(dataDir, workspace)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		return sqlite.Open(ctx, filepath.Join(dir, "confab.db"))
	case "postgres":
		if postgresURL == "" {
			return nil, usageError{"--store postgres needs --postgres URL"}
		}
		if workspace != "" {
			return postgres.OpenSchema(ctx, postgresURL, workspaceSchema(workspace))
		}
		return postgres.Open(ctx, postgresURL)
	case "dynamodb":
		if dyn.Region == "" {
			return nil, usageError{"--store dynamodb needs --dynamodb-region R"}
		}
		return dynamodb.Open(ctx, workspaceDynamo(dyn, workspace))
	}
	return nil, usageError{fmt.Sprintf("unknown --store %q (want sqlite, postgres or dynamodb)", name)}
}

// dynamoSettings are the flags that reach DynamoDB, for every command that
// opens a store. Credentials come from the AWS default chain (environment,
// shared config, instance role).
func dynamoSettings(c *dynamodb.Config) []setting {
	return []setting{
		{"dynamodb-region", "", "AWS region for --store dynamodb", str(&c.Region)},
		{"dynamodb-endpoint", "", "DynamoDB endpoint URL for --store dynamodb (DynamoDB Local: http://127.0.0.1:8000); default: AWS's for the region", str(&c.Endpoint)},
		{"dynamodb-table-prefix", "", "prefix of every DynamoDB table name (the recipe's: <app>-), so that deployments share an account", str(&c.TablePrefix)},
		{"dynamodb-create-tables", "true", "create missing DynamoDB tables and indexes at start (on-demand capacity)", boolean(&c.CreateTables)},
	}
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

// openMailer returns the SMTP mailer for --smtp-url, or nil (no mail:
// sign-ups are confirmed at once) when it is empty.
func openMailer(smtpURL, from string) (auth.Mailer, error) {
	if smtpURL == "" {
		return nil, nil // a nil interface, not a nil *smtp.Mailer
	}
	m, err := smtp.New(smtp.Config{URL: smtpURL, From: from})
	if err != nil {
		return nil, usageError{"--smtp-url/--mail-from: " + err.Error()}
	}
	return m, nil
}

// meterStore registers the store metrics on reg and returns st wrapped
// to feed them: latency and failures by operation for any engine, plus
// the group-commit counters when the store is SQLite (appends ÷ batches is
// the batch size).
func meterStore(reg prometheus.Registerer, st confab.Store) confab.Store {
	if s, ok := st.(*sqlite.Store); ok {
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "confab_store_append_batches_total", Help: "Group-commit transactions (one fsync each)."},
				func() float64 { return float64(s.WriterStats().Batches) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "confab_store_appends_total", Help: "Messages appended by the group-commit writer."},
				func() float64 { return float64(s.WriterStats().Appends) }),
		)
	}
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "confab_store_operation_duration_seconds",
		Help:    "Store calls by operation (AppendMessage includes waiting for its group commit).",
		Buckets: server.LatencyBuckets,
	}, []string{"op"})
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "confab_store_errors_total",
		Help: "Store calls that failed (not counting not-found, conflict and invalid-input answers, or callers that gave up).",
	}, []string{"op"})
	reg.MustRegister(latency, failures)
	return metered.Wrap(st, func(op string, took time.Duration, err error) {
		latency.WithLabelValues(op).Observe(took.Seconds())
		if metered.Failed(err) {
			failures.WithLabelValues(op).Inc()
		}
	})
}

// lagObserver registers the delivery-lag histogram on reg and returns the
// function that feeds it (chat.WithLagObserver).
func lagObserver(reg prometheus.Registerer) func(time.Duration) {
	lag := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "confab_delivery_lag_seconds",
		Help:    "Time from a message's creation (just before its commit) to its queueing for a live subscriber, on this node.",
		Buckets: server.LatencyBuckets,
	})
	reg.MustRegister(lag)
	return func(d time.Duration) { lag.Observe(d.Seconds()) }
}
