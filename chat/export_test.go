package chat

import "time"

// SetRetentionWait replaces the wait between a Retention's passes
// (time.After), so tests decide when the next pass starts.
func SetRetentionWait(r *Retention, after func(time.Duration) <-chan time.Time) { r.after = after }
