// Package realtime is the WebSocket engine shared by confab's two
// subscription protocols (server/gqlws for graphql-transport-ws and
// server/appsync for AppSync's real-time protocol). It owns the connection
// mechanics; the protocol packages own the frames.
//
// Memory per idle connection is kept low on purpose (the load target is
// 15,000 connections in one process): a connection has exactly one
// goroutine while idle, the protocol's reader. A writer goroutine exists only
// while the connection's queue is non-empty. Subscriptions have no goroutine:
// the chat service's stream calls the Wake hook for each event, which queues
// a pull; the writer then calls the operation's gqlgen ResponseHandler,
// which cannot block because an item is known to be waiting. Keep-alives are
// sent by one Hub goroutine for all connections, and timers (init timeout,
// token expiry) are time.AfterFunc, which hold no goroutine until they fire.
//
// Lock order: Hub.mu, then Conn.mu. Neither is held while writing to the
// network or calling into the executor.
//
// This package never imports auth, a store or a broker: authentication and
// presence come in as functions.
package realtime
