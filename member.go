package confab

import "time"

// Role is a member's standing in a conversation. Roles are ranked: an
// OWNER can do whatever an ADMIN can, an ADMIN whatever a MEMBER can, a
// MEMBER whatever a READ_ONLY member can (read, and react when the
// conversation allows it).
type Role string

// The roles, as in the schema's MemberRole enum.
const (
	RoleOwner    Role = "OWNER" // one per conversation: its creator until ownership is transferred
	RoleAdmin    Role = "ADMIN"
	RoleMember   Role = "MEMBER"
	RoleReadOnly Role = "READ_ONLY"
)

// Rank orders the roles: OWNER 3, ADMIN 2, MEMBER 1, READ_ONLY 0; -1 for
// anything else (so an unknown role passes no check).
func (r Role) Rank() int {
	switch r {
	case RoleOwner:
		return 3
	case RoleAdmin:
		return 2
	case RoleMember:
		return 1
	case RoleReadOnly:
		return 0
	}
	return -1
}

// AtLeast reports whether r ranks at or above min.
func (r Role) AtLeast(min Role) bool { return r.Rank() >= 0 && r.Rank() >= min.Rank() }

// ConversationSettings say who may do what in a conversation. Each field
// is the lowest role allowed; the zero value of each is its default.
type ConversationSettings struct {
	// AddMembers is the lowest role that may add members ("" is
	// RoleMember, as in most group chats).
	AddMembers Role
	// Post is the lowest role that may send messages ("" is RoleMember;
	// RoleAdmin makes an announcement conversation).
	Post Role
	// React is the lowest role that may react ("" is RoleMember;
	// RoleReadOnly lets read-only members react).
	React Role
	// SlowMode is the least time between two messages of one member, in
	// seconds; 0 is off. Admins and the owner are never slowed.
	SlowMode int
}

// Effective returns s with every empty role replaced by its default.
func (s ConversationSettings) Effective() ConversationSettings {
	for _, r := range []*Role{&s.AddMembers, &s.Post, &s.React} {
		if *r == "" {
			*r = RoleMember
		}
	}
	return s
}

// ConversationUpdate changes some fields of a conversation; nil fields
// stay as they are.
type ConversationUpdate struct {
	Name     *string
	Settings *ConversationSettings
	// Archived archives (true) or unarchives (false) the conversation: an
	// archived conversation is read-only for everyone (an admin action).
	Archived *bool
}

// MemberUpdate changes one member; nil fields stay as they are.
type MemberUpdate struct {
	UserID string
	Role   *Role
	// MutedUntil mutes the member (they may read but not post or react)
	// until that time; a zero time unmutes.
	MutedUntil *time.Time
}

// AddPolicy is who may put a user into a conversation without asking:
// beyond it, adding the user sends them an Invitation they accept or
// decline.
type AddPolicy string

// The policies, as in the schema's AddPolicy enum.
const (
	AddAnyone     AddPolicy = "ANYONE"     // the default ("" reads as it)
	AddContacts   AddPolicy = "CONTACTS"   // users who already share a conversation with them
	AddInvitation AddPolicy = "INVITATION" // nobody: always an invitation
)

// Invitation is a pending offer to join a conversation, made when the
// invitee's AddPolicy did not let the inviter add them directly.
type Invitation struct {
	ConversationID string
	UserID         string // the invitee
	InvitedBy      string
	Role           Role // the role they get on accepting
	CreatedAt      time.Time
}

// Block is one user's refusal of another: the blocked user cannot start a
// direct conversation with the blocker or add them anywhere, and the
// blocker does not see their messages.
type Block struct {
	UserID    string // who blocked
	BlockedID string
	CreatedAt time.Time
}

// DirectKey is the key that makes a direct conversation unique per pair:
// the two user ids in order, joined by a space (ids never contain one).
func DirectKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + " " + b
}

// Limits on membership and moderation. The service refuses input beyond
// them with CodeInvalid (CodeLimited where it says so); stores rely on it.
const (
	MaxMembers          = 1000      // members of one conversation (addMembers beyond it is CodeLimited)
	MaxAddMembers       = 100       // users one addMembers call may add
	MaxSlowMode         = 6 * 3600  // seconds of ConversationSettings.SlowMode
	MaxReasonBytes      = 1024      // a report's or a moderation action's reason
	MaxBlocks           = 1000      // users one user may block (CodeLimited beyond)
	MaxInvitationsShown = 100       // Query.invitations returns at most this many
	MaxUsageDays        = 366       // the longest span one usage report covers
	MaxAuditPageLimit   = 100       // entries of one audit log or report page
	DefaultUsageDays    = 30        // a usage report's span when none is given
	MaxExportMessages   = 1_000_000 // messages one user export includes at most
)
