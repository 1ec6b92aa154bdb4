// Package realtime is the WebSocket engine shared by confab's two
// subscription protocols (server/gqlws for graphql-transport-ws and
// server/appsync for AppSync's real-time protocol). It owns the connection
// mechanics; the protocol packages own the frames.
//
// Memory per idle connection is kept low on purpose (the load target is
// 15,000 connections in one process): a connection has exactly one
// goroutine while idle, the protocol's reader, started by Conn.Run so the
// upgrade handler (and net/http's per-request state) goes away. The reader
// parks a few frames deep, waiting for the socket to become readable
// without reading (Conn.awaitInput, MSG_PEEK); the client's pongs are
// consumed right there, and every other frame is read and then handled on
// short-lived goroutines (Conn.ReadFrame, Conn.Handle), so the parked
// reader never needs more than the minimum stack. (Whether it gets only
// that is the runtime's choice: GODEBUG=adaptivestackstart=0, see the
// README.) The upgrade request is not kept, only its Authorization
// header. A writer goroutine exists only
// while the connection's queue is non-empty. Subscriptions have no
// goroutine: the chat service's stream calls the Wake hook with each item
// it queues, which queues a pull; the writer then calls the operation's
// gqlgen ResponseHandler, which cannot block because an item is known to
// be waiting. Keep-alives are sent by one Hub goroutine for all
// connections, and timers (init timeout, token expiry) are time.AfterFunc,
// which hold no goroutine until they fire.
//
// Fan-out: for subscriptions whose result does not depend on the
// subscriber (Config.SharedFields), the payload rendered for an item is
// kept in the Hub (renders), and the other subscriptions with the same
// document and variables frame it instead of executing the document again.
//
// Lock order: Conn.mu, then Hub.mu (the hub's counts change with a
// connection's state); Hub.mu is never held while taking a Conn's, and the
// renders' lock is taken alone. None is held while writing to the network
// or calling into the executor.
//
// This package never imports auth, a store or a broker: authentication and
// presence come in as functions.
package realtime
