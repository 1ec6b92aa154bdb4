package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/confab-chat/confab/bench"
)

type benchConfig struct {
	bench.Config
	Embedded    bool
	JSON        bool
	Ceiling     bool
	UploadCheck bool
	Rounds      int
}

func benchSettings(c *benchConfig) []setting {
	return []setting{
		{"url", "http://127.0.0.1:8080", "server base URL (subscribers, setup)", str(&c.URL)},
		{"send-url", "", "send through this node instead (cross-node delivery); default --url", str(&c.SendURL)},
		{"protocol", "graphql-ws", "subscriber protocol: graphql-ws (graphql-transport-ws) or appsync", str(&c.Protocol)},
		{"subscribers", "100", "subscriber WebSocket connections", integer(&c.Subscribers)},
		{"conversations", "10", "conversations the subscribers are spread over", integer(&c.Conversations)},
		{"senders", "8", "concurrent HTTP senders", integer(&c.Senders)},
		{"rate", "0", "total sends per second (0: as fast as possible)", float(&c.Rate)},
		{"duration", "10s", "how long to send", duration(&c.Duration)},
		{"size", "100", "message content bytes", integer(&c.Size)},
		{"users", "20", "accounts the connections share", integer(&c.Users)},
		{"baseline", "false", "drive a minimal in-process WebSocket broadcaster instead (the ceiling)", boolean(&c.Baseline)},
		{"durable-baseline", "false", "drive the durable-send ceiling instead: HTTP/1.1 keep-alive into SQLite (WAL, synchronous=FULL, group commit), in-process; needs --subscribers 0", boolean(&c.Durable)},
		{"ceiling", "false", "run the shape against confab, then against its ceiling (--durable-baseline without subscribers, --baseline with), and print the ratios and issue #19's targets", boolean(&c.Ceiling)},
		{"embedded", "false", "start a confab server in-process on 127.0.0.1 with a temporary data directory", boolean(&c.Embedded)},
		{"json", "false", "also print the report as one JSON line", boolean(&c.JSON)},
		{"upload-rate", "0", "1 MiB images to upload per second while sending (createUpload, the PUT, completeUpload), at most 100", float(&c.UploadRate)},
		{"upload-check", "false", "run the shape alone, with --upload-rate uploads/s (default 10) and alone again against one server (--rounds), with the host's load before each; print each p99 send→deliver, the ratio and issue #13's target (≤ 1.2×)", boolean(&c.UploadCheck)},
		{"rounds", "1", "with --upload-check: how many times to run with uploads, each followed by a run alone; the ratio is then of the medians (at most 10)", integer(&c.Rounds)},
		{"change-mix", "0", "fraction of operations that edit or react to the senders' messages (half each; sends keep --rate), at most 0.5", float(&c.ChangeMix)},
	}
}

// bench runs the load generator (see package bench and BENCHMARKS.md).
func (m *Main) bench(ctx context.Context, args []string) error {
	var c benchConfig
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = usage(fs, "usage: confab bench [flags]")
	if err := parse(fs, benchSettings(&c), args, m.Getenv, m.Environ); err != nil {
		return err
	}
	if c.Embedded && !c.Baseline && !c.Durable {
		dir, err := os.MkdirTemp("", "confab-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		sctx, stop := context.WithCancel(ctx)
		ready := make(chan string, 1)
		done := make(chan error, 1)
		srv := &Main{Stdout: io.Discard, Stderr: m.Stderr, Getenv: func(string) string { return "" }, Ready: func(u string) { ready <- u }}
		go func() {
			args := append([]string{"serve", "--http", "127.0.0.1:0", "--data", dir, "--log-level", "error"}, unlimitedFlags...)
			done <- srv.Run(sctx, args)
		}()
		select {
		case c.URL = <-ready:
		case err := <-done:
			stop()
			return fmt.Errorf("bench: embedded server: %w", err)
		case <-time.After(30 * time.Second):
			stop()
			return fmt.Errorf("bench: embedded server did not start")
		}
		defer func() { stop(); <-done }()
	}
	if c.UploadCheck {
		cmp, err := bench.CompareUploads(ctx, c.Config, c.Rounds, m.Stderr)
		if err != nil {
			return err
		}
		bench.WriteUploadComparison(m.Stdout, cmp)
		if c.JSON {
			return writeJSONLine(m.Stdout, cmp)
		}
		return nil
	}
	if c.Ceiling {
		cmp, err := bench.Compare(ctx, c.Config, m.Stderr)
		if err != nil {
			return err
		}
		bench.WriteComparison(m.Stdout, cmp)
		if c.JSON {
			return writeJSONLine(m.Stdout, cmp)
		}
		return nil
	}
	r, err := bench.Run(ctx, c.Config, m.Stderr)
	if err != nil {
		return err
	}
	bench.WriteTable(m.Stdout, r)
	if c.JSON {
		bench.WriteJSON(m.Stdout, r)
	}
	return nil
}

// writeJSONLine writes v as one JSON line.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
