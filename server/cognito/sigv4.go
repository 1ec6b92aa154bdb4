package cognito

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// maxClockSkew is how far a signature's X-Amz-Date may be from now, as AWS
// allows.
const maxClockSkew = 15 * time.Minute

// signingService is the SigV4 service name the AWS CLI and SDKs sign
// Cognito user pool calls for.
const signingService = "cognito-idp"

// sigV4Auth is the parsed Authorization header of a SigV4 request.
type sigV4Auth struct {
	accessKeyID, date, region, service string
	signedHeaders                      []string
	signature                          string
}

// parseSigV4 parses "AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/
// <service>/aws4_request, SignedHeaders=a;b, Signature=<hex>".
func parseSigV4(header string) (sigV4Auth, bool) {
	rest, ok := strings.CutPrefix(header, "AWS4-HMAC-SHA256 ")
	if !ok {
		return sigV4Auth{}, false
	}
	var a sigV4Auth
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return sigV4Auth{}, false
			}
			a.accessKeyID, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	ok = a.accessKeyID != "" && a.signature != "" && slices.Contains(a.signedHeaders, "host")
	return a, ok
}

var (
	errUnsigned  = errorf("NotAuthorizedException", "Admin operations must be signed (AWS Signature Version 4) with the configured access key.")
	errBadSig    = errorf("AccessDeniedException", "The request signature does not match.")
	errNoAdmin   = errorf("AccessDeniedException", "Admin operations are not enabled on this server: no admin access key is configured.")
	errClockSkew = errorf("AccessDeniedException", "Signature expired: X-Amz-Date is more than 15 minutes from the server's time.")
)

// verifySignature checks an admin request's SigV4 signature by signing a
// copy of it, holding only the headers the client signed, with the AWS
// SDK's signer and the configured secret, for the client's date, region
// and service, and comparing the signatures in constant time.
func (h *Handler) verifySignature(r *http.Request, body []byte) error {
	if h.cfg.AdminAccessKeyID == "" {
		return errNoAdmin
	}
	a, ok := parseSigV4(r.Header.Get("Authorization"))
	if !ok {
		return errUnsigned
	}
	if subtle.ConstantTimeCompare([]byte(a.accessKeyID), []byte(h.cfg.AdminAccessKeyID)) != 1 || a.service != signingService {
		return errBadSig
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || at.Format("20060102") != a.date {
		return errBadSig
	}
	if d := time.Since(at); d > maxClockSkew || d < -maxClockSkew {
		return errClockSkew
	}
	clone, err := http.NewRequestWithContext(context.Background(), r.Method, r.URL.String(), io.NopCloser(bytes.NewReader(body)))
	if err != nil {
		return errBadSig
	}
	clone.Host = r.Host
	clone.URL.Host = r.Host
	for _, name := range a.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			clone.ContentLength = int64(len(body))
		default:
			if vs := r.Header.Values(name); len(vs) > 0 {
				clone.Header[http.CanonicalHeaderKey(name)] = vs
			}
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: h.cfg.AdminAccessKeyID, SecretAccessKey: h.cfg.AdminSecretAccessKey}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, clone, hex.EncodeToString(sum[:]), a.service, a.region, at); err != nil {
		return errBadSig
	}
	want, ok := parseSigV4(clone.Header.Get("Authorization"))
	if !ok || strings.Join(want.signedHeaders, ";") != strings.Join(a.signedHeaders, ";") {
		return errBadSig
	}
	if subtle.ConstantTimeCompare([]byte(want.signature), []byte(a.signature)) != 1 {
		return errBadSig
	}
	return nil
}
