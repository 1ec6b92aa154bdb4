package graph

import (
	"context"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/graph/model"
)

// hitConnection converts a page of searchAllMessages, loading the authors
// of each conversation's hits in one batch (one read per conversation on
// the page, not per hit).
func hitConnection(ctx context.Context, svc *chat.Service, page *chat.HitPage) *model.MessageHitConnection {
	out := &model.MessageHitConnection{Items: make([]*model.MessageHit, 0, len(page.Items)), NextToken: page.NextToken}
	byConv := make(map[string][]*confab.Message)
	for _, h := range page.Items {
		out.Items = append(out.Items, &model.MessageHit{Message: h.Message, Conversation: h.Conversation})
		byConv[h.Message.ConversationID] = append(byConv[h.Message.ConversationID], h.Message)
	}
	for _, msgs := range byConv {
		primeAuthors(ctx, svc, msgs)
	}
	return out
}
