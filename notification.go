package confab

import (
	"context"
	"fmt"
	"time"
)

// NotifyLevel is which messages notify a user who is not connected.
type NotifyLevel string

// The levels, as in the schema's NotificationLevel.
const (
	NotifyAll               NotifyLevel = "ALL"
	NotifyMentionsAndDirect NotifyLevel = "MENTIONS_AND_DIRECT" // mentions of the user, and conversations of two
	NotifyNone              NotifyLevel = "NONE"
)

// MaxMutes bounds the conversations one user keeps muted.
const MaxMutes = 500

// ChannelEmail is the outbox channel of e-mail digests: one delivery per
// user with unread messages, its Target the user id.
const ChannelEmail = "email"

// DigestWindowKey is the conversation id under which ClaimPushWindow keeps
// a user's e-mail digest window: one pending digest per user, whatever the
// conversation. Conversation ids are UUIDs, so it is never one of them.
const DigestWindowKey = "#email-digest"

// NotificationSettings are a user's notification preferences. The zero
// value is the default: every message, with previews, no quiet hours.
type NotificationSettings struct {
	Level        NotifyLevel `json:"level,omitempty"` // "" is NotifyAll
	HidePreviews bool        `json:"hidePreviews,omitempty"`
	// Quiet hours: no notification from QuietStart to QuietEnd ("HH:MM",
	// in TimeZone, an IANA name; "" is UTC). The span may cross midnight;
	// both empty is none.
	QuietStart string `json:"quietStart,omitempty"`
	QuietEnd   string `json:"quietEnd,omitempty"`
	TimeZone   string `json:"timeZone,omitempty"`
	// Mutes maps a muted conversation to the end of its mute (nil: until
	// unmuted).
	Mutes map[string]*time.Time `json:"mutes,omitempty"`
	// EmailDigestsOff is the user's opt-out of e-mail digests (which the
	// server sends only when its operator turned them on): stored as the
	// opt-out so that the zero value, digests on, stays the default.
	EmailDigestsOff bool `json:"emailDigestsOff,omitempty"`
}

// Validate checks settings a client sent.
func (s *NotificationSettings) Validate() error {
	switch s.Level {
	case "", NotifyAll, NotifyMentionsAndDirect, NotifyNone:
	default:
		return Errorf(CodeInvalid, "level must be ALL, MENTIONS_AND_DIRECT or NONE.")
	}
	if (s.QuietStart == "") != (s.QuietEnd == "") {
		return Errorf(CodeInvalid, "Quiet hours need both a start and an end.")
	}
	for _, v := range []string{s.QuietStart, s.QuietEnd} {
		if _, err := clockMinutes(v); v != "" && err != nil {
			return Errorf(CodeInvalid, "Quiet hours are HH:MM (00:00 to 23:59).")
		}
	}
	if _, err := time.LoadLocation(s.TimeZone); err != nil || len(s.TimeZone) > 64 {
		return Errorf(CodeInvalid, "timeZone must be an IANA time zone name such as Europe/Berlin.")
	}
	if len(s.Mutes) > MaxMutes {
		return Errorf(CodeInvalid, "At most %d conversations can be muted.", MaxMutes)
	}
	return nil
}

func clockMinutes(hhmm string) (int, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Wants reports whether a message in conversationID should notify the
// user at now: mentioned says it mentions the user, direct that the
// conversation has two members.
func (s *NotificationSettings) Wants(conversationID string, mentioned, direct bool, now time.Time) bool {
	return s.WantsMessage(conversationID, mentioned, direct, now) && !s.quiet(now)
}

// WantsMessage is Wants without quiet hours: whether the level and the
// mutes let a message through. E-mail digests use it, since an e-mail
// waits in the inbox instead of waking anyone.
func (s *NotificationSettings) WantsMessage(conversationID string, mentioned, direct bool, now time.Time) bool {
	switch s.Level {
	case NotifyNone:
		return false
	case NotifyMentionsAndDirect:
		if !mentioned && !direct {
			return false
		}
	}
	until, muted := s.Mutes[conversationID]
	return !muted || (until != nil && !now.Before(*until))
}

// quiet reports whether now falls in the quiet hours.
func (s *NotificationSettings) quiet(now time.Time) bool {
	if s.QuietStart == "" {
		return false
	}
	start, err1 := clockMinutes(s.QuietStart)
	end, err2 := clockMinutes(s.QuietEnd)
	loc, err3 := time.LoadLocation(s.TimeZone)
	if err1 != nil || err2 != nil || err3 != nil {
		return false // validated when stored; a zone gone from tzdata notifies
	}
	t := now.In(loc)
	m := t.Hour()*60 + t.Minute()
	if start <= end {
		return start <= m && m < end
	}
	return m >= start || m < end // across midnight
}

// String is for logs.
func (s *NotificationSettings) String() string {
	return fmt.Sprintf("level=%s quiet=%s-%s %s mutes=%d digests_off=%v", s.Level, s.QuietStart, s.QuietEnd, s.TimeZone, len(s.Mutes), s.EmailDigestsOff)
}

// NotificationStore keeps notification settings and when each user was
// last pushed about each conversation (coalescing).
type NotificationStore interface {
	// GetNotificationSettings returns the settings of the users among
	// userIDs (at most MaxPageLimit) that have any; others have defaults.
	GetNotificationSettings(ctx context.Context, userIDs []string) (map[string]*NotificationSettings, error)
	// PutNotificationSettings replaces the user's settings.
	PutNotificationSettings(ctx context.Context, userID string, s *NotificationSettings) error
	// ClaimPushWindow starts a coalescing window of the user in the
	// conversation at now, lasting window, unless one is open; it reports
	// whether it started one. Atomic: of concurrent claims one wins.
	// conversationID is a key, never checked against the conversations:
	// DigestWindowKey keeps the e-mail digest's window beside the pushes'.
	ClaimPushWindow(ctx context.Context, userID, conversationID string, now time.Time, window time.Duration) (bool, error)
	// ClaimPushWindows is ClaimPushWindow for several users (at most
	// MaxPageLimit) in one write: it returns the users for whom it
	// started a window. A message's fan-out claims its members' windows
	// with it, so a conversation of hundreds costs the store a few writes,
	// not one each.
	ClaimPushWindows(ctx context.Context, userIDs []string, conversationID string, now time.Time, window time.Duration) (map[string]bool, error)
}
