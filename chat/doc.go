// Package chat is the chat service: every operation of the GraphQL API,
// with its validation, authorisation, sequencing and events. Business rules
// live here once; resolvers and transports only call these methods.
//
// Every method takes the caller as an explicit confab.Identity. A
// conversation the caller is not a member of is reported exactly as one that
// does not exist (CodeNotFound, "Conversation not found.").
//
// Events are published on the Broker only after the Store call that made
// them true returned success. Subscription streams are bounded: a subscriber
// that falls behind by more than its queue is evicted (see stream.go) and
// recovers with afterSeq.
//
// Retention (retention.go), when a deployment sets one, purges old messages
// in the background and publishes nothing: purged seqs simply never come
// back, and streams skip them.
//
// Lock order: Service.cache.mu and Service.dirtyMu are leaves; a stream's
// mu is a leaf too. No lock is held while calling the Store or the Broker,
// except that an orderedStream holds its mu while pushing to its own channel
// (never blocking) and calling the transport's Wake/Evict hooks, which must not
// call back into the stream.
//
// This package never imports a concrete store, broker, graph or server.
package chat
