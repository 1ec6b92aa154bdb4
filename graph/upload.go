package graph

import (
	"slices"

	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/graph/model"
)

// uploadOf converts an upload target for the wire, its headers in name
// order so that answers are stable.
func uploadOf(t *chat.UploadTarget) *model.Upload {
	u := &model.Upload{UploadID: t.UploadID, URL: t.URL, Method: t.Method, ExpiresAt: t.Expires, Headers: []*model.UploadHeader{}}
	for name, values := range t.Headers {
		for _, v := range values {
			u.Headers = append(u.Headers, &model.UploadHeader{Name: name, Value: v})
		}
	}
	slices.SortFunc(u.Headers, func(a, b *model.UploadHeader) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return u
}
