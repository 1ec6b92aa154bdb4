package graph

import (
	"context"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/admin"
	"github.com/confab-chat/confab/graph/model"
)

// actor is the admin API's actor: the caller, whom package admin checks
// is a server administrator.
func actor(ctx context.Context) admin.Actor { return admin.Caller(caller(ctx)) }

// adminUser converts an account as an administrator sees it.
func adminUser(u *admin.User) *model.AdminUser {
	if u == nil {
		return nil
	}
	return &model.AdminUser{User: u.User, Email: u.User.Email, Disabled: u.Disabled, Ban: u.Ban}
}

// usageDay is the schema's day format (DayCount.day): YYYY-MM-DD, UTC.
const usageDay = "2006-01-02"

// usage converts a usage report.
func usage(u *admin.Usage) *model.Usage {
	out := &model.Usage{From: u.From.Format(usageDay), To: u.To.Format(usageDay), Users: u.Users, Conversations: u.Conversations,
		StorageBytes: float64(u.StorageBytes), TopConversations: []*model.ConversationCount{}}
	out.MessagesPerDay = dayCounts(u.MessagesPerDay)
	out.ActiveUsersPerDay = dayCounts(u.ActiveUsersPerDay)
	out.ActiveUsersPerWeek = dayCounts(u.ActiveUsersPerWeek)
	for _, c := range u.TopConversations {
		out.TopConversations = append(out.TopConversations, &model.ConversationCount{ConversationID: c.ConversationID, Name: u.Names[c.ConversationID], Messages: c.Messages})
	}
	return out
}

func dayCounts(list []confab.DayCount) []*model.DayCount {
	out := make([]*model.DayCount, len(list))
	for i, d := range list {
		out[i] = &model.DayCount{Day: d.Day.UTC().Format(usageDay), Count: d.Count}
	}
	return out
}
