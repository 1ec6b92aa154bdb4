// Package realtime is the WebSocket engine shared by confab's two
// subscription protocols (server/gqlws for graphql-transport-ws and
// server/appsync for AppSync's real-time protocol). It owns the connection
// mechanics; the protocol packages own the frames.
//
// Memory per idle connection is kept low on purpose (the load target is
// 15,000 connections in one process). On Linux an idle connection has no
// goroutine at all: its socket is registered with the Hub's poller (one
// epoll instance, one goroutine, one-shot events), which starts a drain
// goroutine when the client sends something; the drain reads and handles
// every frame there is, then re-arms the poller (reader.go). Elsewhere, and
// for TLS, the connection keeps one reader goroutine, parked a few frames
// deep on the socket without reading (awaitInput, MSG_PEEK), which reads
// and handles each frame on short-lived goroutines so its own stack stays
// minimal. Either way the client's pongs and pings are consumed without the
// WebSocket frame reader (skipControl), and Conn.Run is called by the
// upgrade handler, which then returns, so net/http's per-request state goes
// away. The upgrade request is not kept, only its Authorization header. A
// writer goroutine exists only while the connection's queue is non-empty.
// Subscriptions have no goroutine: the chat service's stream calls the Wake
// hook with each item it queues, which queues a pull; the writer then calls
// the operation's gqlgen ResponseHandler, which cannot block because an
// item is known to be waiting. Keep-alives are sent by one Hub goroutine
// for all connections, and timers (init timeout, token expiry) are
// time.AfterFunc, which hold no goroutine until they fire.
//
// Fan-out: for subscriptions whose result does not depend on the subscriber
// (Config.SharedFields), the payload rendered for an item is kept in the
// Hub (renders), and the other subscriptions with the same document and
// variables frame it instead of executing the document again.
//
// Lock order: Conn.mu, then Hub.mu (the hub's counts change with a
// connection's state) or the poller's (registering a socket); Hub.mu is
// never held while taking a Conn's, and the renders' lock is taken alone.
// None is held while writing to the network or calling into the executor.
//
// This package never imports auth, a store or a broker: authentication and
// presence come in as functions.
package realtime
