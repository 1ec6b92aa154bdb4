package storetest

import (
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

// Every way a preview is made (an append in Go; a delete or a purge that
// moves it to an older message, which stores may do in SQL) gives
// confab.Preview of the message's content: one cut, in runes.
var previewTests = []test{
	{"DeleteMessage/PreviewIsConfabPreview", testDeletePreviewCut},
	{"PurgeMessages/PreviewIsConfabPreview", testPurgePreviewCut},
}

// longContent is past the preview length in runes of several byte widths.
var longContent = strings.Repeat("aé€😀", confab.MaxLastMessageLength/3) + " tail"

func (f *fixture) wantPreview(c *confab.Conversation, content string) {
	f.t.Helper()
	conv := f.getConversation(c.ConversationID)
	if want := confab.Preview(content); conv.LastMessage == nil || *conv.LastMessage != want {
		f.t.Fatalf("LastMessage = %v, want confab.Preview %q", conv.LastMessage, want)
	}
}

func testDeletePreviewCut(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	f.send(c, ann, longContent)
	f.wantPreview(c, longContent)
	m := f.send(c, ann, "newest")
	if _, _, err := f.s.DeleteMessage(f.ctx, c.ConversationID, m.MessageID, "", f.now()); err != nil {
		f.t.Fatal(err)
	}
	f.wantPreview(c, longContent)
}

func testPurgePreviewCut(f *fixture) {
	ann := f.user("ann")
	c := f.conversation(ann)
	base := f.now()
	kept := f.newMessage(c, ann, longContent)
	kept.CreatedAt = base.Add(time.Minute)
	purged := f.newMessage(c, ann, "purged")
	purged.CreatedAt = base
	for _, m := range []*confab.Message{kept, purged} {
		if _, err := f.s.AppendMessage(f.ctx, m); err != nil {
			f.t.Fatal(err)
		}
	}
	f.purge(base.Add(time.Second), 10, 1)
	f.wantPreview(c, longContent)
}
