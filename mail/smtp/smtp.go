// Package smtp sends confab's e-mail (sign-up and password-reset codes)
// through an SMTP server. It is the one place that speaks SMTP; auth only
// sees its Send method (auth.Mailer).
package smtp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Config says where and as whom mail is sent.
type Config struct {
	// URL is the server: smtp://[user:password@]host[:port] (default port
	// 587; STARTTLS whenever the server offers it, and required when a
	// user is given, so a password never crosses the network in clear)
	// or smtps://[user:password@]host[:port] (TLS from the first byte,
	// default port 465).
	URL string
	// From is the sender address, e.g. "confab <no-reply@chat.example.com>".
	From string
	// TLS verifies the server; nil verifies it against the system's roots.
	TLS *tls.Config
	// Timeout bounds one Send from dial to QUIT; default 30 s. A context
	// deadline that comes sooner wins.
	Timeout time.Duration
}

// Mailer sends plain-text mail. It is safe for concurrent use; each Send
// is one SMTP session.
type Mailer struct {
	addr, host  string
	implicitTLS bool
	auth        smtp.Auth
	from        *mail.Address
	tls         *tls.Config
	timeout     time.Duration
}

// New checks cfg and returns a Mailer. It does not connect.
func New(cfg Config) (*Mailer, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return nil, fmt.Errorf("smtp: URL %q: want smtp://[user:password@]host[:port] or smtps://…", redact(cfg.URL))
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: sender %q: %w", cfg.From, err)
	}
	m := &Mailer{host: u.Hostname(), implicitTLS: u.Scheme == "smtps", from: from, timeout: cfg.Timeout}
	port := u.Port()
	if port == "" {
		port = map[bool]string{true: "465", false: "587"}[m.implicitTLS]
	}
	m.addr = net.JoinHostPort(m.host, port)
	if u.User != nil {
		pw, _ := u.User.Password()
		// PlainAuth refuses to send the password unless the connection is
		// TLS (or to localhost), which is the guard we want.
		m.auth = smtp.PlainAuth("", u.User.Username(), pw, m.host)
	}
	m.tls = &tls.Config{ServerName: m.host}
	if cfg.TLS != nil {
		m.tls = cfg.TLS.Clone()
		if m.tls.ServerName == "" {
			m.tls.ServerName = m.host
		}
	}
	if m.timeout <= 0 {
		m.timeout = 30 * time.Second
	}
	return m, nil
}

// redact hides a password in a URL for error messages.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable)"
}

// Send mails body (plain text, UTF-8) to one address. It returns when the
// server has accepted the message for delivery.
func (m *Mailer) Send(ctx context.Context, to, subject, body string) error {
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return fmt.Errorf("smtp: recipient %q: %w", to, err)
	}
	msg, err := m.message(rcpt, subject, body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	conn, err := m.dial(ctx)
	if err != nil {
		return fmt.Errorf("smtp: connect %s: %w", m.addr, contextCause(ctx, err))
	}
	defer conn.Close()
	// net/smtp has no context: the deadline bounds every read and write,
	// and a cancelled context closes the connection.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := m.session(conn, rcpt.Address, msg); err != nil {
		return fmt.Errorf("smtp: send to %s: %w", m.addr, contextCause(ctx, err))
	}
	return nil
}

// contextCause names the context's end as the cause of err when it is one:
// the connection's deadline may fire a moment before the context's timer.
func contextCause(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return err
}

func (m *Mailer) dial(ctx context.Context) (net.Conn, error) {
	if m.implicitTLS {
		d := tls.Dialer{Config: m.tls}
		return d.DialContext(ctx, "tcp", m.addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", m.addr)
}

// session runs one SMTP conversation on conn: EHLO, STARTTLS when offered
// (or required), AUTH when configured, MAIL, RCPT, DATA, QUIT.
func (m *Mailer) session(conn net.Conn, rcpt string, msg []byte) error {
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return err
	}
	defer c.Close()
	if !m.implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(m.tls); err != nil {
				return err
			}
		} else if m.auth != nil {
			return errors.New("the server does not offer STARTTLS; refusing to send the password in clear (use smtps:// or a server with TLS)")
		}
	}
	if m.auth != nil {
		if err := c.Auth(m.auth); err != nil {
			return err
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message renders the RFC 5322 message: UTF-8 text, quoted-printable, the
// subject encoded so no header can be injected through it.
func (m *Mailer) message(to *mail.Address, subject, body string) ([]byte, error) {
	if strings.ContainsAny(subject, "\r\n") {
		return nil, errors.New("smtp: the subject contains a line break")
	}
	id := make([]byte, 16)
	rand.Read(id)
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", m.from)
	fmt.Fprintf(&b, "To: %s\r\n", to)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), domainOf(m.from.Address))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")))
	qp.Close()
	return b.Bytes(), nil
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}
