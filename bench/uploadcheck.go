package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// UploadComparison is one chat shape run against one server alone, with
// uploads (Config.UploadRate), and alone again, one after the other, with
// the host's load before each run and after the last: issue #13's target
// on whatever host runs it.
type UploadComparison struct {
	Runs   []*Report `json:"runs"`  // alone, with uploads, alone again
	Hosts  []string  `json:"hosts"` // before each run, and after the last
	Checks []Check   `json:"checks"`
}

// The targets of issue #13 (BENCHMARKS.md).
const (
	// DefaultCheckUploadRate is the upload rate of CompareUploads when
	// the configuration asks for none.
	DefaultCheckUploadRate = 10
	uploadTailTarget       = 1.2 // p99 send→deliver with uploads, times alone's
	reachedRate            = 0.9 // of the rate asked: sends and uploads both "reached"
)

// CompareUploads runs cfg alone, with cfg.UploadRate uploads a second
// (DefaultCheckUploadRate when 0), and alone again, against cfg.URL. A
// run that fails ends it.
func CompareUploads(ctx context.Context, cfg Config, out io.Writer) (*UploadComparison, error) {
	if cfg.UploadRate == 0 {
		cfg.UploadRate = DefaultCheckUploadRate
	}
	if cfg.Subscribers == 0 {
		return nil, fmt.Errorf("bench: the upload check measures send→deliver: it needs --subscribers")
	}
	alone := cfg
	alone.UploadRate = 0
	c := &UploadComparison{}
	for i, run := range []Config{alone, cfg, alone} {
		c.Hosts = append(c.Hosts, Host())
		fmt.Fprintf(out, "== run %d of 3: %s; %s\n", i+1, uploadsLabel(run), c.Hosts[i])
		r, err := Run(ctx, run, out)
		if err != nil {
			return nil, err
		}
		c.Runs = append(c.Runs, r)
	}
	c.Hosts = append(c.Hosts, Host())
	c.Checks = uploadChecks(c.Runs[0], c.Runs[1], c.Runs[2])
	return c, nil
}

func uploadsLabel(cfg Config) string {
	if cfg.UploadRate == 0 {
		return "alone"
	}
	return fmt.Sprintf("with %g uploads/s", cfg.UploadRate)
}

// uploadChecks evaluates issue #13's target: the p99 with uploads against
// the mean of the two runs alone, valid only when every run carried the
// send rate asked and the uploads ran at theirs.
func uploadChecks(a1, w, a2 *Report) []Check {
	alone := (a1.DeliverP99 + a2.DeliverP99) / 2
	r := ratio(w.DeliverP99, alone)
	minSends := min(a1.SendsPerSec, w.SendsPerSec, a2.SendsPerSec)
	lost := float64(0)
	for _, x := range []*Report{a1, w, a2} {
		lost += float64(x.Lost + x.Duplicated + x.OutOfOrder)
	}
	checks := []Check{
		{What: "p99 send→deliver with uploads, times alone's", Figure: r,
			Target: fmt.Sprintf("≤ %.1f (alone: mean of %.1f and %.1f ms)", uploadTailTarget, a1.DeliverP99, a2.DeliverP99),
			Holds:  w.DeliverP99 > 0 && r <= uploadTailTarget},
		{What: "uploads completed /s", Figure: w.UploadsPerSec, Target: fmt.Sprintf("≥ %.1f (%.0f%% of the rate)", reachedRate*w.UploadRate, 100*reachedRate),
			Holds: w.UploadsPerSec >= reachedRate*w.UploadRate},
		{What: "lost, duplicated or out of order", Figure: lost, Target: "0", Holds: lost == 0},
	}
	if w.Rate > 0 {
		checks = append(checks, Check{What: "sends /s, the slowest of the three runs", Figure: minSends,
			Target: fmt.Sprintf("≥ %.0f (%.0f%% of the rate)", reachedRate*w.Rate, 100*reachedRate), Holds: minSends >= reachedRate*w.Rate})
	}
	return checks
}

// WriteUploadComparison writes the three reports, the host lines and one
// line per check.
func WriteUploadComparison(w io.Writer, c *UploadComparison) {
	for i, r := range c.Runs {
		fmt.Fprintf(w, "-- %s  (before: %s)\n", uploadsLabel(Config{UploadRate: r.UploadRate}), c.Hosts[i])
		WriteTable(w, r)
	}
	fmt.Fprintf(w, "-- after: %s\n", c.Hosts[len(c.Hosts)-1])
	p99s := make([]string, len(c.Runs))
	for i, r := range c.Runs {
		p99s[i] = fmt.Sprintf("%.1f", r.DeliverP99)
	}
	fmt.Fprintf(w, "  p99 send→deliver, alone / with uploads / alone: %s ms\n", strings.Join(p99s, " / "))
	writeChecks(w, c.Checks)
}

// hostSyncWrites is how many synced 4 KiB writes Host times.
const hostSyncWrites = 200

// Host describes how busy the host is: its load average and the time of
// one synced 4 KiB write (hostSyncWrites written to a temporary file,
// each followed by fsync), the figures every benchmark here is quoted
// with.
func Host() string {
	load := "n/a"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	return fmt.Sprintf("load average %s, synced 4 KiB write %s", load, syncedWrite())
}

func syncedWrite() string {
	dir, err := os.MkdirTemp("", "confab-host-")
	if err != nil {
		return "n/a"
	}
	defer os.RemoveAll(dir)
	f, err := os.Create(filepath.Join(dir, "w"))
	if err != nil {
		return "n/a"
	}
	defer f.Close()
	block := make([]byte, 4096)
	took := make([]time.Duration, 0, hostSyncWrites)
	for range hostSyncWrites {
		t0 := time.Now()
		if _, err := f.Write(block); err != nil {
			return "n/a"
		}
		if err := f.Sync(); err != nil {
			return "n/a"
		}
		took = append(took, time.Since(t0))
	}
	var total time.Duration
	for _, d := range took {
		total += d
	}
	slices.Sort(took)
	return fmt.Sprintf("%.3f ms (p99 %.3f ms)", float64(total.Microseconds())/1000/hostSyncWrites, float64(took[len(took)*99/100].Microseconds())/1000)
}
