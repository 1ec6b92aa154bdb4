package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/notify/email"
)

// unsubscribeKeyPurpose derives the key of the digests' unsubscribe links
// from the signing key (deriveKey), so every node shares it.
const unsubscribeKeyPurpose = "confab email unsubscribe"

// emailDigests returns the e-mail digest channel and the handler of its
// unsubscribe links when --digest-delay is positive; otherwise nothing,
// and no digest is ever enqueued. Digests need --smtp-url (mailer) and
// --public-url (the links), and a store with an outbox and notification
// settings (SQLite, PostgreSQL).
func emailDigests(st confab.Store, c *serveConfig, mailer email.Mailer, logger *slog.Logger) ([]notify.Channel, http.Handler, error) {
	switch {
	case c.DigestDelay < 0:
		return nil, nil, usageError{fmt.Sprintf("serve: --digest-delay %s is negative (0 turns digests off)", c.DigestDelay)}
	case c.DigestDelay == 0:
		return nil, nil, nil
	case mailer == nil:
		return nil, nil, usageError{"serve: --digest-delay needs --smtp-url and --mail-from (the digests are e-mail)"}
	case c.PublicURL == "":
		return nil, nil, usageError{"serve: --digest-delay needs --public-url (the digests link to the web client)"}
	}
	ds, ok := st.(interface {
		email.Store
		confab.OutboxStore
	})
	if !ok {
		logger.Warn("the store has no outbox or notification settings: e-mail digests are off", "store", c.Store)
		return nil, nil, nil
	}
	// Derived at each use, not here: on a first start the signing key
	// file is made later (by the accounts service), and every link is
	// made or checked long after that.
	key := func() ([]byte, error) { return deriveKey(c.KeyFile, unsubscribeKeyPurpose) }
	lease := c.OutboxLease
	if lease <= 0 {
		lease = notify.DefaultLease
	}
	ch, err := email.New(ds, mailer, email.Config{Delay: c.DigestDelay, PublicURL: c.PublicURL, Key: key, Logger: logger,
		Timeout: min(email.DefaultTimeout, lease/2)}) // within the lease, as webhooks
	if err != nil {
		return nil, nil, err
	}
	return []notify.Channel{ch}, email.UnsubscribeHandler(ds, key, logger), nil
}
