// Package auth is confab's account service, the part of the recipe that
// Cognito played: sign-up with a password policy, sign-in with argon2id
// hashes and lockout, or with SRP (USER_SRP_AUTH, auth/srp) against a
// verifier kept beside the hash; administrators' temporary passwords
// (NEW_PASSWORD_REQUIRED); one-time codes sent through a Mailer to confirm
// sign-ups and reset passwords; RS256 id and access tokens shaped like
// Cognito's (protocols.md §4.1) with a JWKS; and opaque refresh tokens
// that rotate on use and revoke their family when an old one is replayed.
//
// Every id and access token carries its refresh-token family as
// origin_jti. Signing out (one family, or every family of a user) revokes
// the family in the store, drops the tokens from this node's verification
// cache at once, and calls the OnRevoke hooks (the server closes the
// user's WebSockets). With ShareRevocations the revocation also goes out on
// the broker, and every other node drops the user's cached tokens and runs
// its hooks at once; without it (or should the broker lose the event) other
// nodes notice within Config.RevocationCheck, from the store.
//
// The wire formats (server's /auth REST API and server/cognito's Cognito
// API) call the same methods, so every rule lives here once. Refusals are
// *confab.Error values; ReasonOf tells apart the ones Cognito names
// differently.
//
// It stores through confab.Store and never imports a concrete store, the
// chat service, graph or server.
//
// Failed sign-ins lock the (account, address) pair and throttle the
// account only for addresses it never signed in from, so nobody can lock
// the owner out by guessing (lockout.go states the policy).
//
// Locks: the Service holds independent mutexes (the verified-token cache,
// the limiters, the known addresses, the revocation hooks and broker
// link). None is held while another is taken, or while calling the store
// or the broker, hashing a password or running a hook.
//
// The Service starts no goroutines (revocations from other nodes arrive
// on the broker's); password hashes run on the caller's
// goroutine, at most GOMAXPROCS (at least 2) at once. Sealed values (SRP
// secret blocks, challenge sessions) are encrypted with a key derived from
// the signing key, so nodes sharing the key file share them and keep no
// session state.
package auth
