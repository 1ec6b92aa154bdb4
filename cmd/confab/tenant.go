package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/admin"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/blob/image"
	"github.com/confab-chat/confab/broker/namespace"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/graph"
	"github.com/confab-chat/confab/server"
	"github.com/confab-chat/confab/server/cognito"
	"github.com/confab-chat/confab/server/realtime"
	"github.com/prometheus/client_golang/prometheus"
)

// A tenant is one workspace's complete stack: its store namespace, outbox,
// push and digest workers, accounts and Cognito API, chat service, admin,
// retention and upload sweeper, on its view of the shared broker. Nothing
// in one tenant holds a reference to another's, so no code path of one
// workspace can reach another's data. The default workspace's tenant is
// today's server, unchanged.
type tenant struct {
	ws          confab.Workspace
	store       confab.Store // metered, waking the outbox
	broker      confab.Broker
	auth        *auth.Service
	chat        *chat.Service
	cognito     http.Handler
	blobs       http.Handler // the disk engine's links; nil for S3
	unsubscribe http.Handler // the digests' links; nil when they are off
	logger      *slog.Logger
	reg         *prometheus.Registry
	closers     []func() // run last first by close
}

// tenantShared is what every tenant of the process shares.
type tenantShared struct {
	broker   confab.Broker // the process's; each tenant sees it through namespace.New
	reg      *prometheus.Registry
	labelled bool // there are workspaces: every collector carries workspace
	mailer   auth.Mailer
	logger   *slog.Logger
	images   *image.Processor // one pool for every workspace's images
}

// close stops the tenant's workers and services and closes its store,
// last opened first.
func (t *tenant) close() {
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i]()
	}
	t.closers = nil
}

// forWorkspace returns c for workspace id: its public URL and Cognito pool
// are the workspace's, its issuer the default's + /w/<id> (c.Issuer must
// be chosen: openTenant of the default workspace does it), its S3 objects
// under ws/<id>/. The store and disk namespaces follow from the id
// (openStore, openTenant).
func (c *serveConfig) forWorkspace(id string) serveConfig {
	tc := *c
	if c.PublicURL != "" {
		tc.PublicURL = c.PublicURL + workspacePath(id)
	}
	tc.Issuer = c.Issuer + workspacePath(id)
	tc.Cognito.UserPoolID = workspacePoolID(c.Cognito.UserPoolID, id)
	tc.Blob.Prefix = workspaceBlobPrefix(id)
	tc.Blob.URLBase = tc.PublicURL
	if tc.Blob.URLBase == "" {
		tc.Blob.URLBase = workspacePath(id) // relative links, under the workspace's path
	}
	return tc
}

// openTenant opens workspace ws's stack as c configures it. For the
// default workspace (ws.ID "") it also chooses c.Issuer. On error what was
// opened is closed.
func openTenant(ctx context.Context, c *serveConfig, ws confab.Workspace, sh tenantShared) (_ *tenant, err error) {
	t := &tenant{ws: ws}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	logger, reg := sh.logger, prometheus.Registerer(sh.reg)
	if ws.ID != "" {
		logger = logger.With("workspace", ws.ID)
	}
	t.logger, t.reg = logger, sh.reg
	if sh.labelled {
		label := ws.ID
		if label == "" {
			label = "default"
		}
		reg = prometheus.WrapRegistererWith(prometheus.Labels{"workspace": label}, reg)
	}
	st, err := openStore(ctx, c.Store, c.Data, c.Postgres, c.DynamoDB, ws.ID)
	if err != nil {
		return nil, err
	}
	t.closers = append(t.closers, func() { st.Close() })
	rawStore := st // the metered wrapper hides the UploadStore
	pushChans, pushOpts, err := pushChannels(st, c, reg, logger)
	if err != nil {
		return nil, err
	}
	digestChannels, unsubscribe, err := emailDigests(st, c, sh.mailer, logger)
	if err != nil {
		return nil, err
	}
	t.unsubscribe = unsubscribe
	stopOutbox, wakeOutbox, err := startOutbox(st, c, reg, logger, append(pushChans, digestChannels...)...)
	if err != nil {
		return nil, err
	}
	t.closers = append(t.closers, stopOutbox) // before the store closes
	st = wakeOnCommit(meterStore(reg, st), wakeOutbox)
	t.store = st
	t.broker = namespace.New(sh.broker, ws.ID)

	if ws.ID == "" {
		if c.Issuer, err = chooseIssuer(ctx, st, c.Issuer, c.PublicURL, c.KeyFile); err != nil {
			return nil, err
		}
	}
	if err := ensureSigningKey(st, c.KeyFile); err != nil {
		return nil, err
	}
	invitationKey, err := deriveKey(c.KeyFile, "confab workspace invitations")
	if err != nil {
		return nil, err
	}
	t.auth, err = auth.New(st, auth.Config{
		Issuer: c.Issuer, KeyFile: c.KeyFile, AccessTTL: c.AccessTTL, SignupsPerMinute: c.SignupsPerMinute, LoginsPerMinute: c.LoginsPerMinute,
		UserPoolID: c.Cognito.UserPoolID, ClientID: c.Cognito.ClientID, DisableSRP: !c.Cognito.SRP, Mailer: sh.mailer,
		Workspace: ws, InvitationKey: invitationKey,
	})
	if err != nil {
		return nil, err
	}
	t.cognito, err = cognito.New(cognito.Config{
		ClientSecret: c.Cognito.ClientSecret, AdminAccessKeyID: c.Cognito.AdminKeyID, AdminSecretAccessKey: c.Cognito.AdminSecret,
	}, t.auth, logger)
	if err != nil {
		return nil, err
	}
	revocations, err := t.auth.ShareRevocations(t.broker, logger) // sign-outs close sockets on every node at once
	if err != nil {
		return nil, err
	}
	t.closers = append(t.closers, revocations.Unsubscribe)
	cursorKey, err := deriveKey(c.KeyFile, "confab nextToken cursors")
	if err != nil {
		return nil, err
	}
	fileOpts, blobHandler, err := openBlobs(ctx, c.Blob, workspaceDir(c.Data, ws.ID), c.PublicURL, rawStore, sh.images, logger)
	if err != nil {
		return nil, err
	}
	t.blobs = blobHandler
	hookOpts, err := beforeSendOptions(c, reg, logger)
	if err != nil {
		return nil, err
	}
	t.chat = chat.New(st, t.broker, chat.Config{MaxContentBytes: c.MaxContentBytes, MaxResume: c.MaxResume, CursorKey: cursorKey, SendsPerSecond: c.SendsPerSecond,
		ConversationsPerMinute: c.ConvsPerMinute, ShowEmails: c.ShowEmails, EditWindow: c.EditWindow, MaxReactionKeys: c.MaxReactionKeys,
		TypingTimeout: c.TypingTimeout, TypingPerSecond: c.TypingPerSecond},
		append(append(append(fileOpts, chat.WithLogger(logger), chat.WithLagObserver(lagObserver(reg))), hookOpts...), pushOpts...)...)
	t.closers = append(t.closers, func() { t.chat.Close() })       // before the store and broker close
	t.closers = append(t.closers, startUploadSweeper(ctx, t.chat)) // before the service closes
	t.closers = append(t.closers, startRetention(ctx, c.Retention, st, reg, logger))
	return t, nil
}

// server builds the tenant's HTTP server: the default workspace's, which
// listens and serves the others (workspaces) under /w/<id>/, or another
// workspace's (workspaces nil), which it serves.
func (t *tenant) server(c *serveConfig, workspaces map[string]*server.Server) *server.Server {
	return server.New(server.Config{
		Addr:                  c.HTTP,
		TLSCertFile:           c.TLSCert,
		TLSKeyFile:            c.TLSKey,
		MaxBodyBytes:          int64(c.MaxBodyBytes),
		ReadTimeout:           c.ReadTimeout,
		WriteTimeout:          c.WriteTimeout,
		MaxRequestsPerAddress: c.ReqsPerAddress,
		MetricsAddr:           c.MetricsAddr,
		MetricsToken:          c.MetricsToken,
		AllowedOrigins:        splitList(c.AllowedOrigins),
		GraphQL:               graph.Limits{Introspection: c.Introspection},
		Realtime: realtime.Config{KeepAlive: c.KeepAlive, MaxSubscriptions: c.MaxSubscriptions,
			MaxConnsPerUser: c.ConnsPerUser, MaxConnsPerAddress: c.ConnsPerAddress},
		Cognito: t.cognito,
		Version: version,
		Blobs:   t.blobs,
		// The unsubscribe links of e-mail digests; nil when they are off.
		Unsubscribe: t.unsubscribe,
		Admin:       admin.New(t.store, t.chat, t.auth),
		Workspace:   t.ws.ID,
		Workspaces:  workspaces,
	}, t.chat, t.auth, t.store, t.broker, t.reg, t.logger)
}
