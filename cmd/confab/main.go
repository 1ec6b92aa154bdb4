// Command confab is the confab chat backend in one binary.
//
//	confab serve              run the server (embedded store by default)
//	confab user create …      create an account in the data directory
//	confab admin …            administer the server (users, conversations, reports, audit log, usage, export)
//	confab bench …            run the load generator against a server
//	confab backup --to FILE   take a consistent online copy of the embedded store
//	confab amplify-config …   print the Amplify client configuration for confab
//	confab workspace invite … print an invitation link to a workspace
//	confab version            print the version
//
// Every flag can also be set as the environment variable CONFAB_<FLAG>.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Environ: os.Environ()}
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "confab:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for usage errors and 1 for everything else.
func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Main is the program, with its environment injected so end-to-end tests
// can run it in-process.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Environ        []string
	// Ready, when set, receives the running server's base URL (tests).
	Ready func(url string)
}

// Run runs the subcommand named by args[0] until it finishes or ctx ends.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, topUsage)
		return usageError{"no command given"}
	}
	switch args[0] {
	case "serve":
		return m.serve(ctx, args[1:])
	case "user":
		return m.user(ctx, args[1:])
	case "admin":
		return m.admin(ctx, args[1:])
	case "bench":
		return m.bench(ctx, args[1:])
	case "backup":
		return m.backup(ctx, args[1:])
	case "migrate":
		return m.migrate(ctx, args[1:])
	case "amplify-config":
		return m.amplify(ctx, args[1:])
	case "webhook":
		return m.webhook(ctx, args[1:])
	case "workspace":
		return m.workspace(ctx, args[1:])
	case "version":
		fmt.Fprintln(m.Stdout, "confab", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, topUsage)
		return nil
	}
	fmt.Fprint(m.Stderr, topUsage)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

const topUsage = `usage: confab <command> [flags]

commands:
  serve         run the server (flags: confab serve -h)
  user create   create an account: --email --password [--username] [--display-name]
  admin         administer users, conversations, reports, the audit log, usage; export a user (confab admin)
  bench         load-test a running server (confab bench -h)
  backup        online copy of the embedded store: --to FILE [--data DIR]
  migrate       copy the embedded store into PostgreSQL: --postgres URL [--data DIR]
  webhook       manage webhook endpoints: add, list, remove, enable, replay (confab webhook)
  workspace invite  print an invitation link: [--workspace ID] [--email E] [--ttl 168h] --public-url URL
  amplify-config  print amplify_outputs.json and the Amplify.configure code for an app: --public-url URL
  version       print the version
`
