package confab

import "time"

// Credentials is everything that decides whether and how an account may
// sign in: its password hash and the state an administrator or a pending
// confirmation put it in. Accounts created before credentials had more than
// a hash read as confirmed, permanent, enabled and without an SRP verifier.
type Credentials struct {
	UserID       string
	PasswordHash string
	Disabled     bool // refused at every sign-in and refresh
	// Unconfirmed accounts signed up and have not yet entered the code
	// sent to their email; they cannot sign in.
	Unconfirmed bool
	// PasswordTemporary is set by an administrator's password: the next
	// sign-in must choose a new one before any token is issued.
	PasswordTemporary bool
	// SRP is the verifier of the password for SRP sign-in (nil: none yet).
	SRP *SRPVerifier
}

// SRPVerifier is the Secure Remote Password verifier of a password:
// v = g^x mod N with x derived from Salt, the pool and the password. Both
// are lower-case hex without padding. It is a password equivalent and is
// kept like one.
type SRPVerifier struct {
	Salt     string
	Verifier string
}

// CredentialsUpdate changes some credentials of an account; nil fields
// stay as they are. Setting PasswordHash also sets SRP, to nil when SRP is
// nil, so a verifier of an old password never outlives it.
type CredentialsUpdate struct {
	PasswordHash      *string
	SRP               *SRPVerifier
	Email             *string // a new address, unique like at InsertAccount
	Disabled          *bool
	Unconfirmed       *bool
	PasswordTemporary *bool
	UpdatedAt         time.Time
}

// RefreshFamily summarises the refresh tokens of one sign-in: every token
// rotated from the first shares the family, and the id and access tokens
// minted with them carry its id as origin_jti.
type RefreshFamily struct {
	FamilyID string
	UserID   string
	AuthTime time.Time // when the sign-in happened: the first token's CreatedAt
	Revoked  bool
}

// AccountFilter selects accounts for ListAccounts: those whose Field
// (one of "email" (case-insensitive), "username", "user_id"; "" for every
// account) equals Value, or starts with it when Prefix is set.
type AccountFilter struct {
	Field  string
	Value  string
	Prefix bool
	// After is the UserID of the last account of the previous page;
	// accounts come in UserID order.
	After string
	Limit int // 1 to MaxPageLimit
}

// VerificationCode is a one-time code sent to a user, stored only as its
// hash, for one purpose (confirming a sign-up, resetting a password).
type VerificationCode struct {
	UserID    string
	Purpose   string
	Hash      string
	ExpiresAt time.Time
	Attempts  int // wrong codes entered so far
}
