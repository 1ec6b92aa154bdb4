// Package cognito serves the Amazon Cognito Identity Provider API (AWS
// JSON 1.1) over confab's accounts, so Amplify Auth, the AWS SDKs and
// `aws cognito-idp` work against confab unchanged but for the endpoint
// (protocols.md §4). It translates requests into calls on auth.Service, the
// way server/appsync translates the AppSync real-time protocol: every rule
// (password policy, lockout, rate limits, enumeration resistance, refresh
// rotation, revocation) lives in auth, shared with the /auth REST API.
//
// The wire: POST with X-Amz-Target "AWSCognitoIdentityProviderService.<Op>"
// and a JSON body of at most Config.MaxBodyBytes; answers are JSON with
// content type application/x-amz-json-1.1. Errors are HTTP 400 (500 only
// for InternalErrorException) with x-amzn-ErrorType and
// {"__type","message"} naming Cognito's exception.
//
// Admin operations (Admin*, ListUsers, Describe*) must be signed with AWS
// Signature Version 4 by the configured access key; the signature is
// recomputed with the AWS SDK's signer, never by hand. Without a
// configured key they are refused.
//
// Limits: a request body of at most Config.MaxBodyBytes (64 KiB); SRP
// values of at most 2048 hex digits; sealed sessions and secret blocks of
// at most 8 KiB and 3 minutes; ListUsers pages of at most 60. What it does
// not do: device tracking (never NewDeviceMetadata), MFA, custom
// attributes, USER_AUTH and CUSTOM_AUTH flows, and verification of a changed email (it is taken as verified).
//
// The package holds no state of its own beyond its configuration and
// starts no goroutines.
package cognito
