// Package confab is the domain of the confab chat backend: the types every
// other package speaks (Message, Conversation, User, Identity, Event), the
// error type with its closed set of codes, and the two interfaces that
// adapters implement: Store (persistence) and Broker (event fan-out).
//
// This package imports only the standard library and never names a concrete
// implementation (only cmd/confab does). Business rules live in chat/ and
// auth/; the root holds only the few that the stores and both services must
// share, each once: the limits, what text is kept (ValidText), the preview
// cut (Preview), the search word rule (Words, SearchWords) and the activity
// order of conversations (Conversation.ActivityAt). The comments on Store and Broker are the contract
// that store/storetest and broker/brokertest check for every backend.
package confab
