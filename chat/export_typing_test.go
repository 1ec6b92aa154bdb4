package chat

import "time"

// SetTypingTimer replaces time.AfterFunc for the typing expiry of the
// onTyping streams started afterwards, so tests decide when timers fire.
func SetTypingTimer(s *Service, after func(d time.Duration, f func()) (stop func() bool)) {
	s.afterFunc = after
}
