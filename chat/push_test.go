package chat_test

import (
	"context"
	"strings"
	"testing"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

// TestPush_RegisterDevice is the table of device registrations: the
// platforms on, the token syntax, the bundle id, and the caller.
func TestPush_RegisterDevice(t *testing.T) {
	ctx := context.Background()
	apnsToken := strings.Repeat("9F", 32)
	fcmToken := "dX3k_-9:APA91bH" + strings.Repeat("q", 140)
	bundle, other := "com.example.chat", "com.example.other"
	for _, tt := range []struct {
		name     string
		devices  chat.Devices
		platform confab.PushPlatform
		token    string
		bundleID *string
		anon     bool
		want     confab.Code // "" for OK
	}{
		{"OK apns", chat.Devices{APNsTopic: bundle}, confab.PushAPNs, apnsToken, &bundle, false, ""},
		{"OK apns without bundle id", chat.Devices{APNsTopic: bundle}, confab.PushAPNs, apnsToken, nil, false, ""},
		{"OK fcm, bundle id ignored", chat.Devices{FCM: true}, confab.PushFCM, fcmToken, &other, false, ""},
		{"ErrAPNsOff", chat.Devices{FCM: true}, confab.PushAPNs, apnsToken, nil, false, confab.CodeUnavailable},
		{"ErrFCMOff", chat.Devices{APNsTopic: bundle}, confab.PushFCM, fcmToken, nil, false, confab.CodeUnavailable},
		{"ErrOtherApp", chat.Devices{APNsTopic: bundle}, confab.PushAPNs, apnsToken, &other, false, confab.CodeInvalid},
		{"ErrBadToken", chat.Devices{APNsTopic: bundle}, confab.PushAPNs, "not-hex", nil, false, confab.CodeInvalid},
		{"ErrUnknownPlatform", chat.Devices{APNsTopic: bundle, FCM: true}, "wns", fcmToken, nil, false, confab.CodeInvalid},
		{"ErrAnonymous", chat.Devices{APNsTopic: bundle}, confab.PushAPNs, apnsToken, nil, true, confab.CodeUnauthenticated},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, chat.Config{})
			push := chat.NewPush(e.store.(confab.PushStore), "").WithDevices(tt.devices)
			caller := e.user(t, "bob")
			if tt.anon {
				caller = confab.Identity{}
			}
			err := push.RegisterDevice(ctx, caller, tt.platform, tt.token, tt.bundleID)
			if tt.want != "" {
				wantCode(t, err, tt.want)
				return
			}
			if err != nil {
				t.Fatalf("RegisterDevice = %v", err)
			}
			endpoint := confab.DeviceEndpoint(tt.platform, tt.token)
			if tt.platform == confab.PushAPNs {
				endpoint = strings.ToLower(endpoint) // stored in lower case
			}
			s, err := e.store.(confab.PushStore).GetPushSubscription(ctx, endpoint)
			if err != nil || s.UserID != caller.UserID {
				t.Fatalf("stored registration %+v, %v; want %s's", s, err, caller.UserID)
			}
			if ok, err := push.UnregisterDevice(ctx, caller, tt.platform, tt.token); !ok || err != nil {
				t.Fatalf("UnregisterDevice = %v, %v; want true", ok, err)
			}
		})
	}
}

// TestPush_Register_ErrWebPushOff: with devices only, a browser
// subscription is refused rather than stored for nobody to deliver.
func TestPush_Register_ErrWebPushOff(t *testing.T) {
	e := newEnv(t, chat.Config{})
	push := chat.NewPush(e.store.(confab.PushStore), "").WithDevices(chat.Devices{FCM: true})
	err := push.Register(context.Background(), e.user(t, "bob"), "https://push.example/x", "BAAA", "AAAA")
	wantCode(t, err, confab.CodeUnavailable)
}
