// Package server is confab's HTTP edge: routes, middleware, the /graphql
// endpoint with its three transports (POST, graphql-transport-ws, AppSync
// real-time), /auth and /.well-known (Cognito-like accounts), health,
// metrics and the embedded web client.
//
// It turns errors into wire format (writeError for REST, the graph
// presenter for GraphQL) and never holds a business rule. It knows stores
// and brokers only through the root interfaces, for /readyz.
package server
