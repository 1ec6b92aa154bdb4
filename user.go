package confab

import "time"

// User is a person with an account. UserID equals the JWT "sub" claim.
type User struct {
	UserID      string
	Username    string
	Email       string
	DisplayName *string
	AvatarURL   *string
	LastSeen    *time.Time
	IsOnline    bool
	CreatedAt   time.Time
	UpdatedAt   *time.Time
	// HidePresence is the user's choice that nobody else sees IsOnline
	// and LastSeen (they are shown offline, never seen).
	HidePresence bool
	// HideReadReceipts is the user's choice that nobody else sees how far
	// they have read (Conversation.readBy, onReadReceipt). Their own unread
	// counts still work.
	HideReadReceipts bool
	// AddPolicy is who may add the user to a conversation without an
	// invitation ("" reads as AddAnyone).
	AddPolicy AddPolicy
	// Admin makes the user a server administrator: the admin API, the
	// reports queue, the audit log, and moderation in every conversation.
	Admin bool
}

// HiddenEmail stands in for the email of a user whose address the caller
// may not see (the schema's User.email is a non-null AWSEmail). The
// .invalid top-level domain is reserved (RFC 2606), so it is never anyone's
// address.
const HiddenEmail = "hidden@invalid"

// Account is a User together with the secret that proves it: what the store
// keeps for sign-in. PasswordHash is an encoded argon2id or bcrypt hash.
type Account struct {
	User         User
	PasswordHash string
	Disabled     bool
}

// UserUpdate changes some fields of a user; nil fields stay as they are.
type UserUpdate struct {
	DisplayName      *string
	AvatarURL        *string
	IsOnline         *bool
	LastSeen         *time.Time
	HidePresence     *bool
	HideReadReceipts *bool
	AddPolicy        *AddPolicy
	Admin            *bool
	UpdatedAt        time.Time
}

// Limits on user fields, in bytes of UTF-8.
const (
	MaxUsernameBytes    = 64
	MaxEmailBytes       = 254
	MaxDisplayNameBytes = 128
	MaxAvatarURLBytes   = 2048
)

// RefreshToken is an opaque long-lived token, stored only as its hash. Tokens
// issued by rotating one another share a FamilyID; presenting a token that
// was already rotated revokes the whole family (a stolen token was reused).
type RefreshToken struct {
	Hash      string // hex SHA-256 of the token value
	UserID    string
	FamilyID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	Used      bool // already rotated into a newer token
	Revoked   bool // the family was revoked (logout or reuse)
}
