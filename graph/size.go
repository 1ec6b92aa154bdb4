package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// ExpensiveFields are the root fields whose cost grows with stored data
// rather than with the document: an operation may name each of them at
// most MaxExpensive times (aliases included), whatever its complexity.
var ExpensiveFields = map[string]bool{"searchMessages": true, "searchAllMessages": true}

// SizeLimit refuses, before depth and complexity are computed, an
// operation whose selections expand (fragments spread in place) to more
// than MaxFields fields, that names an ExpensiveFields field more than
// MaxExpensive times, or that asks for __schema or __type when
// introspection is off. Counting memoises each fragment's expanded size,
// so a document of nested fragments that expands to 2^23 fields costs one
// visit per fragment, not 2^23: the later checks (depth, gqlgen's
// complexity) walk the expansion and must only see documents that passed.
type SizeLimit struct {
	MaxFields     int
	MaxExpensive  int
	Introspection bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = SizeLimit{}

// ExtensionName implements graphql.HandlerExtension.
func (SizeLimit) ExtensionName() string { return "SizeLimit" }

// Validate implements graphql.HandlerExtension.
func (SizeLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (l SizeLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	c := sizeCounter{cap: l.MaxFields + 1, memo: map[string]selectionSize{}}
	sz := c.size(oc.Operation.SelectionSet)
	var e *gqlerror.Error
	switch {
	case sz.fields > l.MaxFields:
		e = gqlerror.Errorf("The operation selects more than %d fields (fragments expanded).", l.MaxFields)
	case sz.expensive > l.MaxExpensive:
		e = gqlerror.Errorf("The operation searches more than %d times (aliases included).", l.MaxExpensive)
	case sz.introspection && !l.Introspection:
		e = gqlerror.Errorf("Introspection is turned off on this server.")
	default:
		return nil
	}
	setCode(e, confab.CodeInvalid)
	return e
}

// selectionSize is what a selection set expands to. Counts saturate at
// the counter's cap.
type selectionSize struct {
	fields, expensive int
	introspection     bool
}

type sizeCounter struct {
	cap  int
	memo map[string]selectionSize // by fragment name
}

func (c *sizeCounter) size(set ast.SelectionSet) selectionSize {
	var total selectionSize
	for _, sel := range set {
		var s selectionSize
		switch sel := sel.(type) {
		case *ast.Field:
			s = c.size(sel.SelectionSet)
			s.fields++
			if ExpensiveFields[sel.Name] {
				s.expensive++
			}
			if sel.Name == "__schema" || sel.Name == "__type" {
				s.introspection = true
			}
		case *ast.InlineFragment:
			s = c.size(sel.SelectionSet)
		case *ast.FragmentSpread:
			s = c.fragment(sel)
		}
		total = c.add(total, s)
		if total.fields >= c.cap {
			break
		}
	}
	return total
}

// fragment returns the expanded size of a spread's fragment, computed once
// per fragment. Validation has refused cycles; a cycle seen anyway (the
// entry is present while it is being computed) counts as over the cap.
func (c *sizeCounter) fragment(sp *ast.FragmentSpread) selectionSize {
	if s, ok := c.memo[sp.Name]; ok {
		return s
	}
	if sp.Definition == nil {
		return selectionSize{}
	}
	c.memo[sp.Name] = selectionSize{fields: c.cap}
	s := c.size(sp.Definition.SelectionSet)
	c.memo[sp.Name] = s
	return s
}

func (c *sizeCounter) add(a, b selectionSize) selectionSize {
	return selectionSize{
		fields:        min(a.fields+b.fields, c.cap),
		expensive:     min(a.expensive+b.expensive, c.cap),
		introspection: a.introspection || b.introspection,
	}
}
