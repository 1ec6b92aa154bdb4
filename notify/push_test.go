package notify_test

import (
	"testing"

	"github.com/confab-chat/confab/notify"
)

// TestPushPayload_Text: the title and body every push channel shows, the
// service worker's (web/public/sw.js notificationOf).
func TestPushPayload_Text(t *testing.T) {
	for _, tt := range []struct {
		name        string
		p           notify.PushPayload
		title, body string
	}{
		{"named", notify.PushPayload{ConversationName: "team", Sender: "Ann", Preview: "hi", Unread: 1}, "team", "Ann: hi"},
		{"burst", notify.PushPayload{ConversationName: "team", Sender: "Ann", Preview: "hi", Unread: 3}, "team", "Ann: hi (3 unread)"},
		{"hidden preview", notify.PushPayload{Sender: "Ann", Unread: 2}, "Ann", "New message from Ann (2 unread)"},
	} {
		if title, body := tt.p.Title(), tt.p.Body(); title != tt.title || body != tt.body {
			t.Errorf("%s: %q / %q, want %q / %q", tt.name, title, body, tt.title, tt.body)
		}
	}
}

func TestCheckPushURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://api.push.apple.com":  true,
		"http://127.0.0.1:8443":       true,
		"http://localhost:8443":       true,
		"http://[::1]:8443":           true,
		"http://api.push.apple.com":   false,
		"https://user:pw@example.com": false,
		"ftp://example.com":           false,
	} {
		if err := notify.CheckPushURL(raw); (err == nil) != ok {
			t.Errorf("CheckPushURL(%q) = %v, want ok %v", raw, err, ok)
		}
	}
}
