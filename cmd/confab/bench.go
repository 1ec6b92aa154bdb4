package main

import (
	"context"
	"flag"
)

type benchConfig struct{}

func benchSettings(c *benchConfig) []setting { return nil }

func (m *Main) bench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	return usageError{"bench: not wired yet"}
}
