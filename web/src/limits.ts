// The server's limits on what a client sends, mirrored here so the client
// can say what is wrong before asking. Each is named after its Go constant in
// a trailing comment; web/web_test.go reads this file and fails when a value
// differs from that constant, so the mirror cannot drift. Keep each line
// `export const name = <decimal integer>; // <Go name>`.

/** Largest message content, in bytes of UTF-8. The server's default: one
 *  started with another --max-content-bytes answers BAD_USER_INPUT beyond it. */
export const maxContentBytes = 16384; // confab.DefaultMaxContentBytes
/** Largest conversation name, in bytes of UTF-8. */
export const maxConversationNameBytes = 256; // confab.MaxConversationName
/** Characters (code points) of a message kept as its conversation's preview. */
export const maxPreviewLength = 200; // confab.MaxLastMessageLength
/** Most members of one conversation, its creator included. */
export const maxParticipants = 100; // confab.MaxParticipants
/** Largest search term, in bytes of UTF-8. */
export const maxSearchTermBytes = 256; // confab.MaxSearchTermBytes
/** Words of a search term the server uses; later words are ignored. */
export const maxSearchWords = 16; // confab.MaxSearchWords
/** Most members one message may mention. */
export const maxMentions = 50; // confab.MaxMentions
/** Longest username, in bytes (ASCII letters, digits and . _ - @ +). */
export const maxUsernameBytes = 64; // confab.MaxUsernameBytes
/** Longest email address, in bytes. */
export const maxEmailBytes = 254; // confab.MaxEmailBytes
/** Longest display name, in bytes of UTF-8. */
export const maxDisplayNameBytes = 128; // confab.MaxDisplayNameBytes
/** Shortest and longest password of the default policy, in characters. */
export const minPasswordLength = 8; // auth.DefaultPasswordPolicy.MinLength
export const maxPasswordLength = 256; // auth.DefaultPasswordPolicy.MaxLength
/** Longest reason of a report or a moderation action, in bytes of UTF-8. */
export const maxReasonBytes = 1024; // confab.MaxReasonBytes
/** Longest slow mode, in seconds between two messages of one member. */
export const maxSlowModeSeconds = 21600; // confab.MaxSlowMode
/** Users one addMembers call may add. */
export const maxAddMembers = 100; // confab.MaxAddMembers

const encoder = new TextEncoder();

/** The length of s in bytes of UTF-8, as the server counts it. */
export function utf8Bytes(s: string): number {
  return encoder.encode(s).length;
}
