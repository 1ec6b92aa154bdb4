package bench

import (
	"context"
	"errors"
	"fmt"
)

// The change mix (--change-mix F): besides sending, the senders edit and
// react to messages, so that F of all operations are changes (half edits,
// half reactions), while the sends keep the rate asked for (--rate counts
// sends; changes come on top). The subscribers still measure
// send→deliver of onMessageSent: the figure shows what the change log's
// extra writes and events cost the messages, the issue #12 target.

// maxChangeMix bounds Config.ChangeMix: at least half of all operations
// stay sends.
const maxChangeMix = 0.5

// reactionKey is the key the senders react with.
const reactionKey = "👍"

// changeKind is one kind of change a sender makes.
type changeKind int

const (
	changeEdit changeKind = iota
	changeReact
	changeUnreact
)

// change is one edit or reaction by a sender, on its newest message.
type change struct {
	kind      changeKind
	conv      string
	messageID string
}

// mixer decides, for one sender, which of its operations are changes and
// what they change. It is owned by the sender's goroutine.
type mixer struct {
	mix      float64
	ops      int    // operations since the sender had a message to change
	changes  int    // changes among them
	edits    bool   // the last change was an edit (changes alternate)
	lastConv string // the sender's newest acknowledged message
	lastID   string
	reacted  string // the message the sender's reaction is on ("" for none)
}

// next reports whether the sender's next operation is a change, and which.
// Exactly mix of the operations are changes (in the long run), spread
// evenly, once the sender has a message to change.
func (m *mixer) next() (change, bool) {
	if m.mix <= 0 || m.lastID == "" {
		return change{}, false
	}
	m.ops++
	if float64(m.changes+1) > m.mix*float64(m.ops)+1e-9 { // +ε: 0.1×10 is not quite 1 in floating point
		return change{}, false
	}
	m.changes++
	m.edits = !m.edits
	c := change{kind: changeEdit, conv: m.lastConv, messageID: m.lastID}
	if !m.edits {
		c.kind = changeReact
		if m.reacted == m.lastID {
			c.kind = changeUnreact // toggled, so every reaction is a change in the log
		}
	}
	return c, true
}

// sent records the sender's newest acknowledged message.
func (m *mixer) sent(conv, messageID string) {
	if messageID != "" {
		m.lastConv, m.lastID = conv, messageID
	}
}

// done records a change the server acknowledged.
func (m *mixer) done(c change) {
	switch c.kind {
	case changeReact:
		m.reacted = c.messageID
	case changeUnreact:
		m.reacted = ""
	}
}

// change makes c as the sender (the author of c's message) through the
// send URL.
func (t *confabTarget) change(ctx context.Context, sender int, c change, content string) error {
	u := t.users[sender%len(t.users)]
	vars := map[string]any{"c": c.conv, "m": c.messageID}
	var q string
	switch c.kind {
	case changeEdit:
		q, vars["t"] = `mutation($c:ID!,$m:ID!,$t:String!){ editMessage(conversationId:$c, messageId:$m, content:$t){ changeSeq } }`, content
	case changeReact:
		q, vars["k"] = `mutation($c:ID!,$m:ID!,$k:String!){ addReaction(conversationId:$c, messageId:$m, key:$k){ changeSeq } }`, reactionKey
	case changeUnreact:
		q, vars["k"] = `mutation($c:ID!,$m:ID!,$k:String!){ removeReaction(conversationId:$c, messageId:$m, key:$k){ changeSeq } }`, reactionKey
	}
	return t.gql(ctx, t.sendBase, u.token, q, vars, nil)
}

// change is not something the baseline broadcaster can do.
func (b *baseline) change(context.Context, int, change, string) error {
	return errors.New("baseline: no edits or reactions")
}

func checkChangeMix(cfg Config) error {
	if cfg.ChangeMix < 0 || cfg.ChangeMix > maxChangeMix {
		return fmt.Errorf("bench: --change-mix %g is not between 0 and %g", cfg.ChangeMix, maxChangeMix)
	}
	if cfg.ChangeMix > 0 && (cfg.Baseline || cfg.Durable) {
		return errors.New("bench: --change-mix needs a confab server, not --baseline")
	}
	return nil
}
