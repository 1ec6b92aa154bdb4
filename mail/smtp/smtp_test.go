package smtp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab/mail/smtp"
	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// received is one message as the test's SMTP server saw it.
type received struct {
	from, to string
	tls      bool
	user     string
	msg      *mail.Message
	body     string
}

// mailbox is a real SMTP server (go-smtp) on 127.0.0.1:0 that keeps what
// it receives. With cert it offers STARTTLS; with password it requires
// AUTH PLAIN (and TLS for it).
type mailbox struct {
	addr   string
	got    chan received
	reject string // a recipient refused at RCPT
}

func startMailbox(t *testing.T, cert *tls.Certificate, password string) *mailbox {
	t.Helper()
	mb := &mailbox{got: make(chan received, 10)}
	s := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &session{mb: mb, conn: c, password: password}, nil
	}))
	s.Domain = "localhost"
	s.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are part of the tests
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	if cert != nil {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = l.Addr().String()
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return mb
}

type session struct {
	mb       *mailbox
	conn     *gosmtp.Conn
	password string
	user     string
	r        received
}

func (s *session) AuthMechanisms() []string {
	if s.password == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pw string) error {
		if pw != s.password {
			return errors.New("bad password")
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.password != "" && s.user == "" {
		return gosmtp.ErrAuthRequired
	}
	s.r.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if to == s.mb.reject {
		return &gosmtp.SMTPError{Code: 550, Message: "no such mailbox"}
	}
	s.r.to = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		return err
	}
	_, s.r.tls = s.conn.TLSConnectionState()
	s.r.user, s.r.msg, s.r.body = s.user, msg, string(body)
	s.mb.got <- s.r
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func (mb *mailbox) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-mb.got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no mail arrived")
	}
	return received{}
}

// testCert is a certificate for 127.0.0.1 and the pool that trusts it.
func testCert(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func newMailer(t *testing.T, cfg smtp.Config) *smtp.Mailer {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "confab <no-reply@chat.example.com>"
	}
	m, err := smtp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSend_Plain: a message reaches a server without TLS or auth, with
// sender, recipient, a UTF-8 subject and a body that survive the trip.
func TestSend_Plain(t *testing.T) {
	mb := startMailbox(t, nil, "")
	m := newMailer(t, smtp.Config{URL: "smtp://" + mb.addr})
	body := "Your confirmation code is 123456.\nIt expires in 24 hours. Grüße, " + strings.Repeat("=", 100)
	if err := m.Send(t.Context(), "alice@example.com", "Your code — confab", body); err != nil {
		t.Fatal(err)
	}
	r := mb.next(t)
	if r.from != "no-reply@chat.example.com" || r.to != "alice@example.com" {
		t.Errorf("envelope %q → %q", r.from, r.to)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(r.msg.Header.Get("Subject"))
	if err != nil || subject != "Your code — confab" {
		t.Errorf("subject %q (%v)", subject, err)
	}
	if got := strings.TrimSuffix(strings.ReplaceAll(r.body, "\r\n", "\n"), "\n"); got != body { // DATA ends in a line break
		t.Errorf("body %q, want %q", got, body)
	}
	if r.msg.Header.Get("Message-ID") == "" || r.msg.Header.Get("Date") == "" {
		t.Errorf("headers %v lack Message-ID or Date", r.msg.Header)
	}
}

// TestSend_StartTLSAndAuth: with a user in the URL the mailer upgrades
// with STARTTLS (verifying the server) and then authenticates.
func TestSend_StartTLSAndAuth(t *testing.T) {
	cert, pool := testCert(t)
	mb := startMailbox(t, cert, "s3cret")
	m := newMailer(t, smtp.Config{URL: "smtp://mailer:s3cret@" + mb.addr, TLS: &tls.Config{RootCAs: pool}})
	if err := m.Send(t.Context(), "bob@example.com", "code", "654321"); err != nil {
		t.Fatal(err)
	}
	if r := mb.next(t); !r.tls || r.user != "mailer" || r.to != "bob@example.com" {
		t.Errorf("tls %v, user %q, to %q; want TLS as mailer", r.tls, r.user, r.to)
	}

	// An untrusted server certificate stops the send before the password.
	untrusting := newMailer(t, smtp.Config{URL: "smtp://mailer:s3cret@" + mb.addr, TLS: &tls.Config{RootCAs: x509.NewCertPool()}})
	if err := untrusting.Send(t.Context(), "bob@example.com", "code", "654321"); err == nil {
		t.Error("sent through a server whose certificate is not trusted")
	}
}

// TestSend_Refusals: each failure is an error, and nothing is delivered.
func TestSend_Refusals(t *testing.T) {
	mb := startMailbox(t, nil, "")
	mb.reject = "nobody@example.com"
	plain := newMailer(t, smtp.Config{URL: "smtp://" + mb.addr})
	withPassword := newMailer(t, smtp.Config{URL: "smtp://u:p@" + mb.addr})
	for name, send := range map[string]func() error{
		"RecipientRefused":      func() error { return plain.Send(t.Context(), "nobody@example.com", "s", "b") },
		"HeaderInjection":       func() error { return plain.Send(t.Context(), "a@example.com", "s\r\nBcc: x@example.com", "b") },
		"RecipientNotAnAddress": func() error { return plain.Send(t.Context(), "a@example.com\r\nBcc: x@example.com", "s", "b") },
		"PasswordWithoutTLS":    func() error { return withPassword.Send(t.Context(), "a@example.com", "s", "b") },
	} {
		if err := send(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	select {
	case r := <-mb.got:
		t.Errorf("delivered %+v", r)
	default:
	}
}

// TestSend_Deadline: a server that never greets does not hang Send past
// the context's deadline.
func TestSend_Deadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent
		}
	}()
	m := newMailer(t, smtp.Config{URL: "smtp://" + l.Addr().String()})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = m.Send(ctx, "a@example.com", "s", "b")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the deadline", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Send took %s", took)
	}
}

// TestNew_BadConfig: a bad URL or sender is refused at start, and the
// error never shows the password.
func TestNew_BadConfig(t *testing.T) {
	for _, cfg := range []smtp.Config{
		{URL: "http://mail.example.com", From: "a@example.com"},
		{URL: "smtp://u:hunter2@", From: "a@example.com"},
		{URL: "smtp://mail.example.com", From: "not an address"},
	} {
		_, err := smtp.New(cfg)
		if err == nil {
			t.Errorf("%+v accepted", cfg)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
