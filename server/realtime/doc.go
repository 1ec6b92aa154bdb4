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
// polled connection holds its read buffer only while it reads (a pool lends
// it per drain), and presence is recorded by a few writers per Hub, not a
// goroutine per connection (presence.go). A started subscription keeps of
// gqlgen's operation state only what rendering reads (releaseSetup). A
// writer goroutine exists only while the connection's queue is non-empty.
// Subscriptions have no goroutine: the chat service's stream calls the Wake
// hook with each item it queues, which queues a pull; the writer then calls
// the operation's gqlgen ResponseHandler, which cannot block because an
// item is known to be waiting. Keep-alives are sent by one Hub goroutine
// for all connections, which closes silent ones on short-lived goroutines
// (a wedged peer holds its close frame for a second), and timers (init timeout, token expiry) are
// time.AfterFunc, which hold no goroutine until they fire.
//
// Fan-out: for subscriptions whose result does not depend on the subscriber
// (Config.SharedFields), the payload rendered for an item is kept in the
// Hub (renders), and the other subscriptions with the same document and
// variables frame it instead of executing the document again.
//
// # Goroutines
//
// Every goroutine the engine runs, who starts it, what stops it, and the
// locks it may take (besides those of the callbacks it calls: Config's
// functions, the protocol's handler, the executor):
//
//	goroutine          started by                    stopped by                         locks
//	keep-alive (1/Hub) NewHub                        Shutdown (Hub.stop)                Hub.mu, then Conn.mu; never writes to the network
//	poller (1/Hub)     NewHub (Linux)                Shutdown (poller.stop)             poller.mu; takes pongs off sockets without blocking
//	drain              poller, on input (readable)   socket empty (rest re-arms), or    Conn.mu, Hub.mu, poller.mu (handler: Start, Authenticated, …)
//	                                                 an error (it then runs Finish)
//	reader             Run, when not polled (TLS,    a read error; it then runs Finish  as drain; each frame is read and handled on a
//	                   not Linux)                                                       short-lived goroutine (onGoroutine)
//	writer             enqueue, when the queue       queue empty, or Close              Conn.mu, renders.mu, Hub.mu (end); the only one
//	                   becomes non-empty                                                that writes data frames and calls ResponseHandlers
//	dispatch           Start, one per operation      the operation started or failed    Conn.mu, Hub.mu; the executor (resolvers, chat)
//	presence writer    Authenticated, when fewer     no connection left in the Hub's    presenceQueue.mu (a leaf), then Conn.mu;
//	(≤ 8 per Hub)      than maxPresenceWriters run   presence queue; Finish waits for   Config.Connect
//	                                                 its connection's write
//	closer             keep-alive (silent, at most   Close returned                     Conn.mu, poller.mu; writes the close frame
//	                   maxClosing), Shutdown (same
//	                   bound), enqueue (queue full),
//	                   the Evict hook
//	finisher           poller (readable, rest,       Finish returned                    Conn.mu, Hub.mu, poller.mu
//	                   closePolled): exactly one
//	                   Finish per connection
//	timers             SetInitTimeout, Authenticated Close stops them                   Conn.mu; the protocol's onTimeout, onExpiry
//	                   (time.AfterFunc)
//
// A subscription has no goroutine here: its stream (package chat) queues an
// item and calls the Wake hook on the publisher's goroutine.
//
// # Lock order
//
// One order across packages; a goroutine holding a lock may take only the
// ones below it (nats-server's locksordering.txt, kept next to the code):
//
//	inproc sub.mu       broker/inproc: one subscription, held while delivering to it
//	chat stream mu      chat: one subscription's stream, held while it queues an item
//	                    and calls Wake (or, for a start overflow, nothing)
//	realtime Conn.mu    one connection: wake, enqueue, operations, state
//	realtime Hub.mu     counts by subscription field, user and address
//	  or poller.mu      socket registration (never both)
//
// renders.mu is taken with no other lock held. No lock is held while
// writing to the network (but Close's close frame, which holds none of
// these) or calling into the executor. chat holds a new stream's mu while
// subscribing it, which takes inproc's shard lock: no delivery can wait on
// that stream's mu, as its subscription does not exist yet.
//
// Which lock guards each field is written on its struct (Conn, op, Hub,
// poller, renders).
//
// This package never imports auth, a store or a broker: authentication and
// presence come in as functions.
package realtime
