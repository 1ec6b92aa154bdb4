package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// trusting returns TLS settings that trust only the PEM certificate file.
func trusting(t *testing.T, certFile, serverName string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", certFile)
	}
	return &tls.Config{RootCAs: pool, ServerName: serverName}
}

// TestMain_TLSSelfSigned (#11 item 7): --tls-self-signed serves HTTPS and
// WSS with a certificate a client verifies once it trusts the file (for
// 127.0.0.1, localhost and the --public-url host), and the next start
// keeps the same certificate.
func TestMain_TLSSelfSigned(t *testing.T) {
	data := t.TempDir()
	a, stop := startMain(t, data, "--tls-self-signed", "--public-url", "https://chat.example.com")
	if !strings.HasPrefix(a.url, "https://") {
		t.Fatalf("url = %s, want https", a.url)
	}
	certFile := filepath.Join(data, "tls", "self-signed-cert.pem")
	first, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "localhost", "chat.example.com"} { // "": the URL's 127.0.0.1
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: trusting(t, certFile, name)}}
		resp, err := client.Get(a.url + "/healthz")
		if err != nil {
			t.Fatalf("verified GET as %q: %v", name, err)
		}
		resp.Body.Close()
	}
	if _, err := http.Get(a.url + "/healthz"); err == nil {
		t.Error("a client that does not trust the certificate connected")
	}

	a.client = &http.Client{Transport: &http.Transport{TLSClientConfig: trusting(t, certFile, "")}}
	alice := a.signUp(t, "alice")
	d := websocket.Dialer{TLSClientConfig: trusting(t, certFile, ""), Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("wss://"+strings.TrimPrefix(a.url, "https://")+"/graphql", nil)
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": alice.accessToken}})
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m map[string]any
	if err := conn.ReadJSON(&m); err != nil || m["type"] != "connection_ack" {
		t.Fatalf("over wss: %v %v, want connection_ack", m, err)
	}
	conn.Close()
	stop()

	_, stop = startMain(t, data, "--tls-self-signed", "--public-url", "https://chat.example.com")
	stop()
	if again, _ := os.ReadFile(certFile); !bytes.Equal(again, first) {
		t.Error("the second start made a new certificate; clients that trusted the first would break")
	}
}

// TestEnsureSelfSigned_Renews: a certificate is made anew when a host it
// must cover is missing or its end is near, and kept otherwise.
func TestEnsureSelfSigned_Renews(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	step := func(hosts []string, now time.Time, wantMade bool) {
		t.Helper()
		_, _, made, err := ensureSelfSigned(dir, hosts, now)
		if err != nil {
			t.Fatal(err)
		}
		if made != wantMade {
			t.Fatalf("hosts %v at %s: made = %v, want %v", hosts, now.Format(time.DateOnly), made, wantMade)
		}
	}
	step(hosts, now, true)
	step(hosts, now, false)
	step(append(hosts, "chat.example.com"), now, true)
	step(append(hosts, "chat.example.com"), now.Add(selfSignedValidity-selfSignedRenew+time.Hour), true)
}

// TestEnsureSelfSigned_DistinctSubjects: certificates of two data
// directories have different subjects, so a client trusting both (as the
// Amplify tests do) finds the right one for each server.
func TestEnsureSelfSigned_DistinctSubjects(t *testing.T) {
	subject := func() string {
		certFile, _, _, err := ensureSelfSigned(t.TempDir(), []string{"localhost"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		pair, err := tls.LoadX509KeyPair(certFile, strings.Replace(certFile, "cert", "key", 1))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return cert.Subject.String()
	}
	if a, b := subject(), subject(); a == b {
		t.Errorf("both certificates are %q", a)
	}
}

// TestMain_TLSSelfSignedTrustHint: serve tells where the certificate is
// and how Node and the AWS tools are made to trust it.
func TestMain_TLSSelfSignedTrustHint(t *testing.T) {
	data := t.TempDir()
	var out strings.Builder
	ctx, cancel := context.WithCancel(t.Context())
	m := &Main{Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" }, Ready: func(string) { cancel() }}
	if err := m.Run(ctx, []string{"serve", "--http", "127.0.0.1:0", "--data", data, "--log-level", "error", "--tls-self-signed"}); err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(data, "tls", "self-signed-cert.pem")
	for _, want := range []string{"NODE_EXTRA_CA_CERTS=" + cert, "AWS_CA_BUNDLE=" + cert, "listening on https://"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
