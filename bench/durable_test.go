package bench

import (
	"bytes"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDurable_CommitsBeforeAnswer sends from several senders at once and
// checks, through a second connection to the database file, that every
// answered send is committed, each conversation's seqs run 1..n without a
// gap, and the bodies are stored as sent.
func TestDurable_CommitsBeforeAnswer(t *testing.T) {
	d, err := startDurable(Config{Senders: 8, Conversations: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	defer d.closeAll()
	const senders, each = 8, 25
	var wg sync.WaitGroup
	errs := make([]error, senders)
	for p := range senders {
		wg.Go(func() {
			for i := range each {
				if _, err := d.send(t.Context(), p, fmt.Sprint("c", i%3), fmt.Sprintf("m-%d-%d", p, i)); err != nil {
					errs[p] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		t.Fatal(err)
	}
	other, err := openReader(filepath.Join(d.dir, "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var n, convs, gaps, bodies int
	if err := other.QueryRow(`SELECT count(*), count(DISTINCT conversation), count(DISTINCT body) FROM messages`).Scan(&n, &convs, &bodies); err != nil {
		t.Fatal(err)
	}
	if err := other.QueryRow(`SELECT count(*) FROM (SELECT conversation FROM messages GROUP BY conversation HAVING max(seq) <> count(*) OR min(seq) <> 1)`).Scan(&gaps); err != nil {
		t.Fatal(err)
	}
	if n != senders*each || bodies != n || convs != 3 || gaps != 0 {
		t.Fatalf("rows %d (distinct bodies %d) in %d conversations, %d with gaps; want %d rows, 3 conversations, no gaps", n, bodies, convs, gaps, senders*each)
	}
}

// TestRun_DurableBaseline drives the ceiling through Run: sends succeed,
// the report names it, and a shape with subscribers is refused.
func TestRun_DurableBaseline(t *testing.T) {
	var progress bytes.Buffer
	r, err := Run(t.Context(), Config{Durable: true, Conversations: 4, Senders: 4, Duration: 300 * time.Millisecond}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if r.SendsOK == 0 || r.SendErrors != 0 || r.Mode != "durable-baseline" || r.SendP99 < r.SendP50 {
		t.Fatalf("report %+v: want sends, no errors, mode durable-baseline", r)
	}
	var table bytes.Buffer
	WriteTable(&table, r)
	if !strings.Contains(table.String(), "durable-baseline + load tool") {
		t.Fatalf("table:\n%s", table.String())
	}
	if _, err := Run(t.Context(), Config{Durable: true, Subscribers: 1}, &progress); err == nil || !strings.Contains(err.Error(), "--subscribers 0") {
		t.Fatalf("subscribers with --durable-baseline: err %v", err)
	}
	if _, err := Run(t.Context(), Config{Durable: true, Baseline: true}, &progress); err == nil {
		t.Fatal("--baseline with --durable-baseline: no error")
	}
}

// TestChecks picks the targets by shape and judges them.
func TestChecks(t *testing.T) {
	tests := []struct {
		name  string
		c, b  Report
		holds []bool
	}{
		{"DurableHalf", Report{SendsPerSec: 9000}, Report{SendsPerSec: 18000}, []bool{true, true}},
		{"DurableSlow", Report{SendsPerSec: 4000}, Report{SendsPerSec: 9000}, []bool{false, false}},
		{"FanOut", Report{Subscribers: 10, Conversations: 1, DeliveriesSec: 70}, Report{DeliveriesSec: 100}, []bool{false, true}},
		{"FanOutLost", Report{Subscribers: 10, Conversations: 1, DeliveriesSec: 80, Lost: 1}, Report{DeliveriesSec: 100}, []bool{true, false}},
		{"ChatHolds", Report{Subscribers: 10, Conversations: 2, DeliverP99: 4, SendP99: 3}, Report{DeliverP99: 1}, []bool{true, true, true, true}},
		{"ChatTail", Report{Subscribers: 10, Conversations: 2, DeliverP99: 12, SendP99: 11, OutOfOrder: 1}, Report{DeliverP99: 1}, []bool{false, false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checks(&tt.c, &tt.b)
			if len(got) != len(tt.holds) {
				t.Fatalf("%d checks %+v, want %d", len(got), got, len(tt.holds))
			}
			for i, k := range got {
				if k.Holds != tt.holds[i] {
					t.Errorf("check %q figure %v: holds %v, want %v", k.What, k.Figure, k.Holds, tt.holds[i])
				}
			}
		})
	}
}

// openReader opens a second, independent connection to a durable
// baseline's database, read-only.
func openReader(path string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+path+"?mode=ro")
}
