// Package graph is confab's GraphQL API: the schema (schema/*.graphqls: the
// recipe's seed schema unchanged, AWS scalar and directive declarations,
// and confab's additive extensions), the gqlgen executor built from it, and
// the thin resolvers that connect it to the chat service.
//
// Layout:
//
//   - schema/, gqlgen.yml, generate.go: the source of generated/ (the
//     executor) and model/ (types with no domain twin). Both are output of
//     `go generate ./...`, never edited by hand; domain types (Message,
//     Conversation, User, MessageType) are bound to the root package's.
//   - *.resolvers.go: resolver methods only. Each reads the caller, calls
//     one chat.Service method and converts the result (convert.go);
//     subscriptions return the channel chat gives them.
//   - handler.go: NewServer, the executor with its limits (expanded size,
//     searches and introspection, size.go, checked first; depth, limits.go;
//     complexity, with searchMessages weighed by its limit), error presenter
//     and per-operation loaders (loaders.go, which batch Message.author).
//   - errors.go: the presenter and recover function, the one place a GraphQL
//     error gets its wire form: a *confab.Error's safe message,
//     extensions.code and the AppSync errorType (internal/errortype); any
//     other error is logged once and shown as "Internal error.".
//   - scalar/: the AWS scalars, apart so the executor imports them without a
//     cycle.
//
// It holds no business rules (validation, authorisation and limits on
// input are chat's), names no store or broker, and adds no transport:
// package server serves the executor over HTTP POST and both WebSocket
// protocols.
package graph
