package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// SharedSubscriptions are the subscription root fields whose results are
// the same for every subscriber with the same document and variables:
// they return Message, and no field of Message (or of User, its author)
// depends on who asks. The WebSocket transports render each of their
// events once for all such subscribers (realtime.Config.SharedFields).
//
// Two fields of Message do depend on the caller: reactions (reactedByMe)
// and unreadReplies. Under these subscriptions they answer [] and 0, the
// values of a message as it is sent (or deleted: a tombstone shows no
// reactions), so a rendering is right for every subscriber and an event
// costs no store read; reactions and replies made afterwards reach clients
// through onConversationChanged, listMessages and getMessage
// (callerIndependent in loaders.go).
// TestSharedSubscriptions_CallerIndependent pins the fields this relies on:
// a field that depends on the caller must leave this list or be answered
// the same way.
var SharedSubscriptions = map[string]bool{"onMessageSent": true, "onMessageDeleted": true}

// DepthLimit refuses operations whose selections nest deeper than Max
// levels (fragments expanded), before any resolver runs.
type DepthLimit struct{ Max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = DepthLimit{}

// ExtensionName implements graphql.HandlerExtension.
func (DepthLimit) ExtensionName() string { return "DepthLimit" }

// Validate implements graphql.HandlerExtension.
func (DepthLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (d DepthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth(oc.Operation.SelectionSet, 1, d.Max+1) > d.Max {
		e := gqlerror.Errorf("The operation is nested deeper than %d levels.", d.Max)
		setCode(e, confab.CodeInvalid)
		return e
	}
	return nil
}

// depth returns the nesting depth of set, counting at most up to stop so
// that hostile documents cost bounded work.
func depth(set ast.SelectionSet, level, stop int) int {
	if level >= stop {
		return level
	}
	max := level - 1
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			d = level
			if len(s.SelectionSet) > 0 {
				d = depth(s.SelectionSet, level+1, stop)
			}
		case *ast.InlineFragment:
			d = depth(s.SelectionSet, level, stop)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d = depth(s.Definition.SelectionSet, level, stop)
			}
		}
		if d > max {
			max = d
		}
		if max >= stop {
			return max
		}
	}
	return max
}
