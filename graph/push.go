package graph

import (
	"slices"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/graph/model"
)

// settingsUpdate converts the input of updateNotificationSettings.
func settingsUpdate(in model.NotificationSettingsInput) chat.SettingsUpdate {
	u := chat.SettingsUpdate{Previews: in.Previews, QuietStart: in.QuietStart, QuietEnd: in.QuietEnd, TimeZone: in.TimeZone, Unmute: in.Unmute,
		EmailDigests: in.EmailDigests}
	if in.Level != nil {
		l := confab.NotifyLevel(*in.Level)
		u.Level = &l
	}
	if len(in.Mute) > 0 {
		u.Mute = map[string]*time.Time{}
		for _, m := range in.Mute {
			u.Mute[m.ConversationID] = m.Until
		}
	}
	return u
}

// notificationSettings converts settings for the schema, mutes by id.
func notificationSettings(s *confab.NotificationSettings) *model.NotificationSettings {
	out := &model.NotificationSettings{Level: model.NotificationLevelAll, Previews: !s.HidePreviews, Mutes: []*model.ConversationMute{},
		EmailDigests: !s.EmailDigestsOff}
	if s.Level != "" {
		out.Level = model.NotificationLevel(s.Level)
	}
	if s.QuietStart != "" {
		out.QuietStart, out.QuietEnd = &s.QuietStart, &s.QuietEnd
	}
	if s.TimeZone != "" {
		out.TimeZone = &s.TimeZone
	}
	for id, until := range s.Mutes {
		out.Mutes = append(out.Mutes, &model.ConversationMute{ConversationID: id, Until: until})
	}
	slices.SortFunc(out.Mutes, func(a, b *model.ConversationMute) int {
		return strings.Compare(a.ConversationID, b.ConversationID)
	})
	return out
}

// pushPlatform converts the schema's PushPlatform (APNS, FCM).
func pushPlatform(p model.PushPlatform) confab.PushPlatform {
	switch p {
	case model.PushPlatformApns:
		return confab.PushAPNs
	case model.PushPlatformFcm:
		return confab.PushFCM
	}
	return confab.PushPlatform(p) // refused by chat
}
