package main

import (
	"fmt"
	"log/slog"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/notify/apns"
	"github.com/confab-chat/confab/notify/fcm"
	"github.com/prometheus/client_golang/prometheus"
)

// mobilePushConfig is the settings of the mobile push channels (docs/push.md).
// APNs is on when --apns-key-file is set, FCM when --fcm-credentials-file is.
type mobilePushConfig struct {
	APNsKeyFile, APNsKeyID, APNsTeamID, APNsTopic, APNsURL string
	FCMCredentialsFile, FCMProjectID, FCMURL               string
}

// check refuses half a configuration: a key without its ids, or ids
// without the key they go with.
func (m *mobilePushConfig) check() error {
	apnsSet := 0
	for _, v := range []string{m.APNsKeyFile, m.APNsKeyID, m.APNsTeamID, m.APNsTopic} {
		if v != "" {
			apnsSet++
		}
	}
	if apnsSet != 0 && apnsSet != 4 {
		return usageError{"serve: --apns-key-file, --apns-key-id, --apns-team-id and --apns-topic go together"}
	}
	if m.FCMCredentialsFile == "" && m.FCMProjectID != "" {
		return usageError{"serve: --fcm-project-id needs --fcm-credentials-file"}
	}
	return nil
}

// pushChannels returns the push channels that are on (Web Push, APNs,
// FCM), sharing one fan-out, and the chat option of the registration
// service; nothing when none is on or the store keeps no push
// subscriptions or has no outbox.
func pushChannels(st confab.Store, c *serveConfig, reg prometheus.Registerer, logger *slog.Logger) ([]notify.Channel, []chat.Option, error) {
	mobile := c.Mobile.APNsKeyFile != "" || c.Mobile.FCMCredentialsFile != ""
	ps, ok := st.(interface {
		notify.PushStore
		confab.OutboxStore
	})
	if !ok {
		if c.WebPush || mobile {
			logger.Warn("the store keeps no push subscriptions: push notifications are off", "store", c.Store)
		}
		return nil, nil, nil
	}
	fanout := notify.NewPushFanout(ps, notify.PushConfig{})
	channels, publicKey, err := webPush(ps, fanout, c, reg, logger)
	if err != nil {
		return nil, nil, err
	}
	devices, more, err := mobilePush(ps, fanout, &c.Mobile, reg, logger)
	if err != nil {
		return nil, nil, err
	}
	if channels = append(channels, more...); len(channels) == 0 {
		return nil, nil, nil
	}
	return channels, []chat.Option{chat.WithPush(chat.NewPush(ps, publicKey).WithDevices(devices))}, nil
}

// mobilePush returns the APNs and FCM channels that are configured.
func mobilePush(ps notify.PushStore, fanout *notify.PushFanout, m *mobilePushConfig, reg prometheus.Registerer, logger *slog.Logger) (chat.Devices, []notify.Channel, error) {
	var devices chat.Devices
	var channels []notify.Channel
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "confab_device_registrations_dropped_total",
		Help: "Mobile device registrations dropped because APNs or FCM said the token is gone, by platform.",
	}, []string{"platform"})
	reg.MustRegister(dropped)
	if m.APNsKeyFile != "" {
		key, err := apns.LoadKey(m.APNsKeyFile)
		if err != nil {
			return devices, nil, err
		}
		ch, err := apns.New(ps, apns.Config{Key: key, KeyID: m.APNsKeyID, TeamID: m.APNsTeamID, Topic: m.APNsTopic, URL: m.APNsURL,
			Fanout: fanout, Logger: logger, Dropped: dropped.WithLabelValues(string(confab.PushAPNs)).Inc})
		if err != nil {
			return devices, nil, usageError{fmt.Sprintf("serve: --apns-*: %v", err)}
		}
		channels, devices.APNsTopic = append(channels, ch), m.APNsTopic
	}
	if m.FCMCredentialsFile != "" {
		creds, err := fcm.LoadCredentials(m.FCMCredentialsFile)
		if err != nil {
			return devices, nil, err
		}
		ch, err := fcm.New(ps, fcm.Config{Credentials: creds, ProjectID: m.FCMProjectID, URL: m.FCMURL,
			Fanout: fanout, Logger: logger, Dropped: dropped.WithLabelValues(string(confab.PushFCM)).Inc})
		if err != nil {
			return devices, nil, usageError{fmt.Sprintf("serve: --fcm-*: %v", err)}
		}
		channels, devices.FCM = append(channels, ch), true
	}
	return devices, channels, nil
}
