package confab_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

func TestPushSubscription_Validate(t *testing.T) {
	key := base64.RawURLEncoding.EncodeToString(append([]byte{4}, make([]byte, 64)...))
	auth := base64.RawURLEncoding.EncodeToString(make([]byte, 16))
	for _, tt := range []struct {
		name, endpoint, p256dh, auth string
		ok                           bool
	}{
		{"https", "https://fcm.googleapis.com/fcm/send/abc", key, auth, true},
		{"padded keys", "https://push.example/x", key + "=", auth + "==", true},
		{"loopback http", "http://127.0.0.1:8080/x", key, auth, true},
		{"plain http", "http://push.example/x", key, auth, false},
		{"credentials", "https://u:p@push.example/x", key, auth, false},
		{"relative", "/x", key, auth, false},
		{"too long", "https://push.example/" + strings.Repeat("a", confab.MaxPushEndpointBytes), key, auth, false},
		{"compressed key", "https://push.example/x", base64.RawURLEncoding.EncodeToString(append([]byte{2}, make([]byte, 32)...)), auth, false},
		{"short auth", "https://push.example/x", key, base64.RawURLEncoding.EncodeToString(make([]byte, 8)), false},
		{"not base64", "https://push.example/x", key, "!!!", false},
		{"apns", "apns:" + strings.Repeat("0a", 32), "", "", true},
		{"apns 100 bytes", "apns:" + strings.Repeat("ff", 100), "", "", true},
		{"apns upper case", "apns:" + strings.Repeat("0A", 32), "", "", false},
		{"apns odd", "apns:" + strings.Repeat("0a", 32) + "f", "", "", false},
		{"apns short", "apns:" + strings.Repeat("0a", 31), "", "", false},
		{"apns long", "apns:" + strings.Repeat("0a", 101), "", "", false},
		{"apns not hex", "apns:" + strings.Repeat("zz", 32), "", "", false},
		{"apns with keys", "apns:" + strings.Repeat("0a", 32), key, auth, false},
		{"fcm", "fcm:dX3k_-9:APA91bH" + strings.Repeat("x", 140), "", "", true},
		{"fcm short", "fcm:abc", "", "", false},
		{"fcm long", "fcm:" + strings.Repeat("x", confab.MaxFCMTokenBytes+1), "", "", false},
		{"fcm slash", "fcm:" + strings.Repeat("x", 40) + "/y", "", "", false},
		{"fcm space", "fcm:" + strings.Repeat("x", 40) + " y", "", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := (&confab.PushSubscription{Endpoint: tt.endpoint, P256dh: tt.p256dh, Auth: tt.auth}).Validate()
			if (err == nil) != tt.ok || (err != nil && confab.ErrorCode(err) != confab.CodeInvalid) {
				t.Fatalf("Validate = %v, want ok %v (else BAD_USER_INPUT)", err, tt.ok)
			}
		})
	}
}

func TestNotificationSettings_Validate(t *testing.T) {
	mutes := map[string]*time.Time{}
	for i := range confab.MaxMutes + 1 {
		mutes[strings.Repeat("c", i+1)] = nil
	}
	for _, tt := range []struct {
		name string
		s    confab.NotificationSettings
		ok   bool
	}{
		{"zero", confab.NotificationSettings{}, true},
		{"all set", confab.NotificationSettings{Level: confab.NotifyNone, QuietStart: "23:00", QuietEnd: "06:30", TimeZone: "America/New_York"}, true},
		{"level", confab.NotificationSettings{Level: "SOME"}, false},
		{"start only", confab.NotificationSettings{QuietStart: "23:00"}, false},
		{"bad clock", confab.NotificationSettings{QuietStart: "24:00", QuietEnd: "06:00"}, false},
		{"bad zone", confab.NotificationSettings{TimeZone: "Nowhere/Town"}, false},
		{"too many mutes", confab.NotificationSettings{Mutes: mutes}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
