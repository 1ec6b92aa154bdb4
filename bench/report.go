package bench

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteTable writes r as a short human-readable table.
func WriteTable(w io.Writer, r *Report) {
	fmt.Fprintf(w, "mode %s  protocol %s  subscribers %d  conversations %d  senders %d  rate %s  size %d B  %.1fs\n",
		r.Mode, r.Protocol, r.Subscribers, r.Conversations, r.Senders, rate(r.Rate), r.Size, r.Seconds)
	fmt.Fprintf(w, "  sends         %9d ok  %6d errors  %9.0f /s   latency p50 %.2f ms  p99 %.2f ms\n",
		r.SendsOK, r.SendErrors, r.SendsPerSec, r.SendP50, r.SendP99)
	if r.Rate > 0 && r.SendsPerSec < 0.9*r.Rate {
		// Each sender waits for its response before the next send.
		fmt.Fprintf(w, "  note: %.0f sends/s of the %.0f asked: the senders were too few for the send latency; raise --senders\n", r.SendsPerSec, r.Rate)
	}
	if r.ChangeMix > 0 {
		fmt.Fprintf(w, "  changes       %9d ok  %6d errors  (mix %.2f: edits and reactions)   latency p50 %.2f ms  p99 %.2f ms\n",
			r.ChangesOK, r.ChangeErrors, r.ChangeMix, r.ChangeP50, r.ChangeP99)
	}
	if r.UploadRate > 0 {
		fmt.Fprintf(w, "  uploads       %9d ok  %6d busy  %d errors  %d skipped  %.1f /s of %.0f asked   latency p50 %.0f ms  p99 %.0f ms\n",
			r.UploadsOK, r.UploadsBusy, r.UploadErrors, r.UploadSkipped, r.UploadsPerSec, r.UploadRate, r.UploadP50, r.UploadP99)
	}
	fmt.Fprintf(w, "  deliveries    %9d of %d expected  %9.0f /s   lost %d  duplicated %d  out of order %d  disconnected %d\n",
		r.Deliveries, r.Expected, r.DeliveriesSec, r.Lost, r.Duplicated, r.OutOfOrder, r.Disconnected)
	fmt.Fprintf(w, "  send→deliver  p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms\n",
		r.DeliverP50, r.DeliverP95, r.DeliverP99, r.DeliverMax)
	where := "server"
	if r.Mode != "confab" {
		where = "process (" + r.Mode + " + load tool)"
	}
	fmt.Fprintf(w, "  %s  rss %s  goroutines %s\n", where, gauge(r.ServerRSSMiB, "%.1f MiB"), gauge(r.Goroutines, "%.0f"))
}

func rate(r float64) string {
	if r == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%.0f/s", r)
}

func gauge(v *float64, format string) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf(format, *v)
}

// WriteJSON writes r as one JSON line.
func WriteJSON(w io.Writer, r *Report) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("bench: report: %w", err)
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
