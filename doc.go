// Package confab is the domain of the confab chat backend: the types every
// other package speaks (Message, Conversation, User, Identity, Event), the
// error type with its closed set of codes, and the two interfaces that
// adapters implement: Store (persistence) and Broker (event fan-out).
//
// This package imports only the standard library. It holds no business rules
// (those live in chat/ and auth/) and never names a concrete implementation
// (only cmd/confab does). The comments on Store and Broker are the contract
// that store/storetest and broker/brokertest check for every backend.
package confab
