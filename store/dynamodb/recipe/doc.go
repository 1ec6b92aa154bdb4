// Package recipe reads a deployment of the AppSync chat recipe from its
// three DynamoDB tables, exactly as the recipe's VTL resolvers wrote them
// (seed/000_507222aa2a906945.txt), and maps each item to confab's domain
// types, so that `confab migrate --from-dynamodb` can bring its history over.
//
// What the recipe wrote, table by table:
//
//   - Messages (key conversationId + messageId): sendMessage's PutItem with
//     a random messageId ($util.autoId()), userId (the Cognito sub),
//     content, messageType, and createdAt/updatedAt as ISO 8601 strings.
//   - Conversations (key conversationId): createConversation's PutItem with
//     name (NULL when absent), participants (a list of user ids, without
//     the creator unless the client named it), createdBy, createdAt,
//     updatedAt and a messageCount that stays 0 forever.
//   - Users (key userId): updateUserPresence's UpdateItem, which creates an
//     item holding only isOnline, lastSeen and updatedAt; a deployment that
//     added a profile writer may also have username, email, displayName,
//     avatarUrl and createdAt.
//
// The emails live in the recipe's Cognito user pool, not in DynamoDB;
// ReadCognitoUsers reads the pool's export (aws cognito-idp list-users) to
// complete the accounts.
//
// The package only reads: it never writes to the recipe's tables and never
// touches a confab store. Every item is untrusted input: one that confab
// cannot hold unchanged (a missing key, a wrong attribute type, an
// unparsable time, text beyond confab's limits) is reported as an *Invalid,
// never altered or silently dropped.
package recipe
