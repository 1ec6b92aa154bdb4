package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Self-signed development certificates (--tls-self-signed). Amplify v6
// always dials wss:// (protocols.md §1.1), so even a laptop needs TLS.
const (
	selfSignedValidity = 365 * 24 * time.Hour
	// selfSignedRenew: a certificate closer than this to its end is made anew.
	selfSignedRenew = 30 * 24 * time.Hour
)

// selfSignedHosts are the names the certificate covers: the loopback
// names, the --public-url host and the --http host when it names one.
func selfSignedHosts(httpAddr, publicURL string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	add := func(h string) {
		if h != "" && h != "0.0.0.0" && h != "::" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	if u, err := url.Parse(publicURL); err == nil && publicURL != "" {
		add(u.Hostname())
	}
	if h, _, err := net.SplitHostPort(httpAddr); err == nil {
		add(h)
	}
	return hosts
}

// ensureSelfSigned returns the certificate and key files in dir/tls covering
// hosts, making them when missing, when a host is not covered, or when the
// certificate nears its end; made says whether it did. The certificate is
// its own CA, so trusting the one file (NODE_EXTRA_CA_CERTS, AWS_CA_BUNDLE,
// the system store) is enough.
func ensureSelfSigned(dir string, hosts []string, now time.Time) (certFile, keyFile string, made bool, err error) {
	dir = filepath.Join(dir, "tls")
	certFile, keyFile = filepath.Join(dir, "self-signed-cert.pem"), filepath.Join(dir, "self-signed-key.pem")
	if certCovers(certFile, keyFile, hosts, now) {
		return certFile, keyFile, false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", false, fmt.Errorf("tls: %w", err)
	}
	certPEM, keyPEM, err := makeSelfSigned(hosts, now)
	if err != nil {
		return "", "", false, err
	}
	// Key first: a crash between the two leaves a certificate that does
	// not match its key, which certCovers rejects, so the next start heals.
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return "", "", false, err
	}
	if err := writeFileAtomic(certFile, certPEM, 0o644); err != nil {
		return "", "", false, err
	}
	return certFile, keyFile, true, nil
}

// certCovers reports whether certFile and keyFile form a pair valid at now
// for a while longer and naming every host.
func certCovers(certFile, keyFile string, hosts []string, now time.Time) bool {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return false
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil || now.Before(cert.NotBefore) || now.Add(selfSignedRenew).After(cert.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if cert.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func makeSelfSigned(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		// A subject of its own: clients that trust certificates of two data
		// directories look issuers up by subject, and would check one
		// certificate against the other's key.
		Subject:               pkix.Name{Organization: []string{"confab development"}, CommonName: "confab self-signed " + fmt.Sprintf("%032x", serial)[:16]},
		NotBefore:             now.Add(-time.Hour), // tolerate a little clock skew
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// writeFileAtomic writes data to path with mode through a temporary file
// and a rename, so a reader never sees half a file.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	return nil
}

// trustHint tells how to make clients trust the self-signed certificate.
func trustHint(certFile string) string {
	return fmt.Sprintf(`self-signed TLS certificate: %[1]s
  trust it in Node:      NODE_EXTRA_CA_CERTS=%[1]s
  in the AWS CLI/SDKs:   AWS_CA_BUNDLE=%[1]s
  system-wide (Debian):  cp %[1]s /usr/local/share/ca-certificates/confab.crt && update-ca-certificates
  in a browser: import it as a certificate authority, or open the URL once and accept it
`, certFile)
}
