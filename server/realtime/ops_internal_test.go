package realtime

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// setupExec is a GraphExecutor whose operations are subscriptions that
// start at once; it hands out operation contexts as gqlgen fills them.
type setupExec struct{ oc *graphql.OperationContext }

func (e *setupExec) CreateOperationContext(_ context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	e.oc = &graphql.OperationContext{
		RawQuery:      p.Query,
		OperationName: p.OperationName,
		Variables:     p.Variables,
		Extensions:    p.Extensions,
		Operation: &ast.OperationDefinition{
			Operation:    ast.Subscription,
			SelectionSet: ast.SelectionSet{&ast.Field{Name: "onTest"}},
		},
	}
	e.oc.Stats.SetExtension("complexity", 3)
	return e.oc, nil
}

func (*setupExec) DispatchOperation(ctx context.Context, _ *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	confab.StreamHooksFrom(ctx).Started(func() {})
	return func(context.Context) *graphql.Response { return nil }, ctx
}

func (*setupExec) DispatchError(_ context.Context, errs gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: errs}
}

// TestConn_StartedSubscriptionReleasesSetup: once a subscription has
// started, its operation context no longer holds the query text, the
// request's extensions or the setup statistics (it lives as long as the
// subscription), and still holds what rendering and error reports read.
func TestConn_StartedSubscriptionReleasesSetup(t *testing.T) {
	th := newTestHub(t, Config{}, nil)
	_, c := th.dial(t, nil)
	exec := &setupExec{}
	params := &graphql.RawParams{
		Query:         "subscription S($id: ID!) { onTest(id: $id) }",
		OperationName: "S",
		Variables:     map[string]any{"id": "c1"},
		Extensions:    map[string]any{"authorization": map[string]any{"host": "h"}},
	}
	o, ctx, err := c.register("s")
	if err != nil {
		t.Fatal(err)
	}
	c.dispatch(ctx, o, params, exec, false, nil)
	if !c.Has("s") {
		t.Fatal("the subscription did not start")
	}
	oc := exec.oc
	if oc.RawQuery != "" || oc.Extensions != nil || oc.Stats.GetExtension("complexity") != nil {
		t.Errorf("started subscription keeps query %q, extensions %v, stats %v; want them released", oc.RawQuery, oc.Extensions, oc.Stats.GetExtension("complexity"))
	}
	if oc.OperationName != "S" || oc.Variables["id"] != "c1" || oc.Operation == nil {
		t.Errorf("started subscription lost its operation name %q, variables %v or operation", oc.OperationName, oc.Variables)
	}
}

// TestReleaseSetup_Fields lists the fields of gqlgen's OperationContext
// that releaseSetup sorts into kept and dropped: a gqlgen that adds one
// fails here, so that releaseSetup is taught whether to keep it.
func TestReleaseSetup_Fields(t *testing.T) {
	var got []string
	typ := reflect.TypeFor[graphql.OperationContext]()
	for i := range typ.NumField() {
		got = append(got, typ.Field(i).Name)
	}
	want := []string{
		"RawQuery", "Variables", "OperationName", "Doc", "Extensions", "Headers", "Operation", "DisableIntrospection",
		"RecoverFunc", "ResolverMiddleware", "RootResolverMiddleware", "Stats", "collectFieldsCache",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("graphql.OperationContext has fields %v, releaseSetup knows %v: sort the new ones into kept or dropped", got, want)
	}
}
