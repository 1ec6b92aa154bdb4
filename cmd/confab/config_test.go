package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

// TestMain_Help: -h prints each setting's effective default: the
// environment's value when set, and for a 0 that stands for a package's
// default, that default as the package has it.
func TestMain_Help(t *testing.T) {
	environ := []string{"CONFAB_SENDS_PER_SECOND=5"}
	var stderr strings.Builder
	m := &Main{Stdout: io.Discard, Stderr: &stderr, Environ: environ,
		Getenv: func(k string) string {
			if k == "CONFAB_SENDS_PER_SECOND" {
				return "5"
			}
			return ""
		}}
	if err := m.Run(t.Context(), []string{"serve", "-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("serve -h = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{
		fmt.Sprintf("(env CONFAB_MAX_CONTENT_BYTES; default 0 (= %d, chat's default))", confab.DefaultMaxContentBytes),
		fmt.Sprintf("(env CONFAB_SENDS_PER_SECOND = 5; built-in default 0 (= %d, chat's default))", chat.DefaultSendsPerSecond),
		"(env CONFAB_TLS_KEY; default \"\")",
		"(env CONFAB_ACCESS_TTL; default 0s (= 1h0m0s, auth's default))",
		"(env CONFAB_MAX_CONNS_PER_ADDRESS; default 0 (= 1000, realtime's default))",
		"(env CONFAB_MAX_BODY_BYTES; default 0 (= 262144, server's default))",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("serve -h lacks %q:\n%s", want, stderr.String())
		}
	}
}
