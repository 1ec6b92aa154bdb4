package auth

import "context"

// Mailer sends an e-mail message of plain text. Implementations (an SMTP
// client, in cmd/confab's wiring) must be safe for concurrent use and
// should return within ctx. With no Mailer, sign-ups are confirmed at once
// and forgotten passwords cannot be reset by code.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}
