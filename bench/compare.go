package bench

import (
	"context"
	"fmt"
	"io"
)

// Comparison is one shape run against confab and then against the
// machine's ceiling for that shape, in the same process and one after the
// other, so that the ratio between them holds on whatever host runs them.
type Comparison struct {
	Confab  *Report `json:"confab"`
	Ceiling *Report `json:"ceiling"`
	Checks  []Check `json:"checks"`
}

// Check is one target of issue #19 evaluated on a Comparison (or of
// issue #13 on an UploadComparison).
type Check struct {
	What   string  `json:"what"`
	Figure float64 `json:"figure"` // confab's figure, or its ratio to the ceiling
	Target string  `json:"target"`
	Holds  bool    `json:"holds"`
}

// The targets (BENCHMARKS.md, issue #19).
const (
	durableRatioTarget = 0.50 // durable sends/s, of the durable ceiling's
	durableAbsTarget   = 8000 // durable sends/s on a host like the issue's
	fanOutRatioTarget  = 0.75 // fan-out deliveries/s, of the broadcaster's
	tailRatioTarget    = 5.0  // chat-shape p99 send→deliver, times the broadcaster's
	tailAbsTargetMS    = 10.0 // chat-shape p99 send→deliver and a send's p99, ms
)

// Compare runs cfg against confab, then the same shape against its
// ceiling: the durable-send ceiling when there are no subscribers, the
// WebSocket broadcaster otherwise. A confab run that fails ends it.
func Compare(ctx context.Context, cfg Config, out io.Writer) (*Comparison, error) {
	cfg.Baseline, cfg.Durable = false, false
	c, err := Run(ctx, cfg, out)
	if err != nil {
		return nil, err
	}
	ceil := cfg
	ceil.ChangeMix = 0
	if cfg.Subscribers == 0 {
		ceil.Durable = true
	} else {
		ceil.Baseline = true
	}
	b, err := Run(ctx, ceil, out)
	if err != nil {
		return nil, err
	}
	return &Comparison{Confab: c, Ceiling: b, Checks: checks(c, b)}, nil
}

// checks evaluates the targets that apply to the shape: durable sends
// (no subscribers), fan-out (one conversation) or the chat shape.
func checks(c, b *Report) []Check {
	lost := Check{What: "lost, duplicated or out of order", Figure: float64(c.Lost + c.Duplicated + c.OutOfOrder), Target: "0"}
	lost.Holds = lost.Figure == 0
	switch {
	case c.Subscribers == 0:
		r := ratio(c.SendsPerSec, b.SendsPerSec)
		return []Check{
			{What: "durable sends/s, of the ceiling's", Figure: r, Target: fmt.Sprintf("≥ %.2f", durableRatioTarget), Holds: r >= durableRatioTarget},
			{What: "durable sends/s", Figure: c.SendsPerSec, Target: fmt.Sprintf("≥ %d (on a host like issue #19's)", durableAbsTarget), Holds: c.SendsPerSec >= durableAbsTarget},
		}
	case c.Conversations == 1:
		r := ratio(c.DeliveriesSec, b.DeliveriesSec)
		return []Check{
			{What: "fan-out deliveries/s, of the baseline's", Figure: r, Target: fmt.Sprintf("≥ %.2f", fanOutRatioTarget), Holds: r >= fanOutRatioTarget},
			lost,
		}
	default:
		r := ratio(c.DeliverP99, b.DeliverP99)
		return []Check{
			{What: "p99 send→deliver, times the baseline's", Figure: r, Target: fmt.Sprintf("≤ %.0f", tailRatioTarget), Holds: c.DeliverP99 > 0 && r <= tailRatioTarget},
			{What: "p99 send→deliver, ms", Figure: c.DeliverP99, Target: fmt.Sprintf("< %.0f", tailAbsTargetMS), Holds: c.DeliverP99 > 0 && c.DeliverP99 < tailAbsTargetMS},
			{What: "p99 of a send, ms", Figure: c.SendP99, Target: fmt.Sprintf("< %.0f", tailAbsTargetMS), Holds: c.SendP99 > 0 && c.SendP99 < tailAbsTargetMS},
			lost,
		}
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// WriteComparison writes both reports and one line per check.
func WriteComparison(w io.Writer, c *Comparison) {
	WriteTable(w, c.Confab)
	WriteTable(w, c.Ceiling)
	writeChecks(w, c.Checks)
}

func writeChecks(w io.Writer, checks []Check) {
	for _, k := range checks {
		verdict := "holds"
		if !k.Holds {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "  check  %-42s %10.2f   target %-32s %s\n", k.What, k.Figure, k.Target, verdict)
	}
}
