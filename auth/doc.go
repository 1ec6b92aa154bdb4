// Package auth is confab's account service, the part of the recipe that
// Cognito played: sign-up with a password policy, sign-in with argon2id
// hashes and lockout, RS256 id and access tokens shaped like Cognito's
// (protocols.md §4.1) with a JWKS, and opaque refresh tokens that rotate on
// use and revoke their family when an old one is replayed.
//
// It stores through confab.Store and never imports a concrete store, the
// chat service, graph or server.
//
// Locks: the Service holds three independent mutexes (the verified-token
// cache and the two limiters). None is held while another is taken, or
// while calling the store or hashing a password.
//
// The Service starts no goroutines; password hashes run on the caller's
// goroutine, at most GOMAXPROCS (at least 2) at once.
package auth
