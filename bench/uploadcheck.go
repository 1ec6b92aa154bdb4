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

// UploadComparison is one chat shape run against one server alone and
// with uploads (Config.UploadRate), alternating, alone first and last,
// with the host's load before each run and after the last: issue #13's
// target on whatever host runs it.
type UploadComparison struct {
	Runs   []*Report `json:"runs"`  // alone, with uploads, alone, … alone
	Hosts  []string  `json:"hosts"` // before each run, and after the last
	Checks []Check   `json:"checks"`
}

// The targets of issue #13 (BENCHMARKS.md).
const (
	// DefaultCheckUploadRate is the upload rate of CompareUploads when
	// the configuration asks for none.
	DefaultCheckUploadRate = 10
	// MaxUploadRounds bounds CompareUploads' rounds (each two runs).
	MaxUploadRounds  = 10
	uploadTailTarget = 1.2 // p99 send→deliver with uploads, times alone's
	reachedRate      = 0.9 // of the rate asked: sends and uploads both "reached"
)

// CompareUploads runs cfg alone, then rounds times with cfg.UploadRate
// uploads a second (DefaultCheckUploadRate when 0) and alone again:
// 2 × rounds + 1 runs (rounds 1 to MaxUploadRounds). A run that fails
// ends it.
func CompareUploads(ctx context.Context, cfg Config, rounds int, out io.Writer) (*UploadComparison, error) {
	if cfg.UploadRate == 0 {
		cfg.UploadRate = DefaultCheckUploadRate
	}
	if cfg.Subscribers == 0 {
		return nil, fmt.Errorf("bench: the upload check measures send→deliver: it needs --subscribers")
	}
	if rounds < 1 || rounds > MaxUploadRounds {
		return nil, fmt.Errorf("bench: %d rounds is not between 1 and %d", rounds, MaxUploadRounds)
	}
	alone := cfg
	alone.UploadRate = 0
	runs := []Config{alone}
	for range rounds {
		runs = append(runs, cfg, alone)
	}
	c := &UploadComparison{}
	for i, run := range runs {
		c.Hosts = append(c.Hosts, Host())
		fmt.Fprintf(out, "== run %d of %d: %s; %s\n", i+1, len(runs), uploadsLabel(run), c.Hosts[i])
		r, err := Run(ctx, run, out)
		if err != nil {
			return nil, err
		}
		c.Runs = append(c.Runs, r)
	}
	c.Hosts = append(c.Hosts, Host())
	c.Checks = uploadChecks(c.Runs)
	return c, nil
}

func uploadsLabel(cfg Config) string {
	if cfg.UploadRate == 0 {
		return "alone"
	}
	return fmt.Sprintf("with %g uploads/s", cfg.UploadRate)
}

// uploadChecks evaluates issue #13's target on runs (alone at even
// indexes, with uploads at odd ones): the median p99 with uploads
// against the median of the runs alone (with one round: the mean of the
// two), valid only when every run carried the send rate asked and the
// uploads ran at theirs.
func uploadChecks(runs []*Report) []Check {
	var alone, with []float64
	minSends, minUploads, lost := runs[0].SendsPerSec, runs[1].UploadsPerSec, float64(0)
	for i, r := range runs {
		if i%2 == 0 {
			alone = append(alone, r.DeliverP99)
		} else {
			with = append(with, r.DeliverP99)
			minUploads = min(minUploads, r.UploadsPerSec)
		}
		minSends = min(minSends, r.SendsPerSec)
		lost += float64(r.Lost + r.Duplicated + r.OutOfOrder)
	}
	a, w := median(alone), median(with)
	r := ratio(w, a)
	what := fmt.Sprintf("alone: %.1f ms", a)
	if len(with) > 1 {
		what = fmt.Sprintf("medians: %.1f ms with, %.1f ms alone", w, a)
	}
	rate, uploadRate := runs[0].Rate, runs[1].UploadRate
	checks := []Check{
		{What: "p99 send→deliver with uploads, times alone's", Figure: r,
			Target: fmt.Sprintf("≤ %.1f (%s)", uploadTailTarget, what), Holds: w > 0 && r <= uploadTailTarget},
		{What: "uploads completed /s, the slowest run", Figure: minUploads, Target: fmt.Sprintf("≥ %.1f (%.0f%% of the rate)", reachedRate*uploadRate, 100*reachedRate),
			Holds: minUploads >= reachedRate*uploadRate},
		{What: "lost, duplicated or out of order", Figure: lost, Target: "0", Holds: lost == 0},
	}
	if rate > 0 {
		checks = append(checks, Check{What: "sends /s, the slowest run", Figure: minSends,
			Target: fmt.Sprintf("≥ %.0f (%.0f%% of the rate)", reachedRate*rate, 100*reachedRate), Holds: minSends >= reachedRate*rate})
	}
	return checks
}

// median returns the median of xs (the mean of the middle two for an
// even count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// WriteUploadComparison writes the reports, the host lines and one line
// per check.
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
	fmt.Fprintf(w, "  p99 send→deliver, alone / with uploads / alone …: %s ms\n", strings.Join(p99s, " / "))
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
