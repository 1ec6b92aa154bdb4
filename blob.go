package confab

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"
)

// BlobStore keeps the bytes of uploaded files and their thumbnails. Clients
// move the bytes themselves, to and from short-lived presigned URLs: the
// GraphQL API never carries a file. Two engines implement it: blob/disk
// (the data directory; confab serves the signed URLs itself) and blob/s3
// (any S3-compatible store; the store serves them, confab never proxies
// the bytes). blob/blobtest checks this contract for every implementation.
//
// Keys are chosen by the service, never by clients, and are ValidBlobKey.
// Every method is safe for concurrent use. A missing object is a *Error
// with CodeNotFound; anything else is a wrapped engine error. The store
// holds no rules: who may upload or read what is decided by chat before a
// URL is minted.
type BlobStore interface {
	// PresignPut returns a request that stores exactly one object under key:
	// the body must be p.Size bytes of p.ContentType. The request is refused
	// after p.Expires, with another method, key, type or length, or with a
	// forged signature, and then nothing is stored. A second PUT before the
	// expiry replaces the object (the service verifies what it finds).
	PresignPut(ctx context.Context, key string, p PutParams) (*PresignedRequest, error)
	// PresignGet returns a URL that downloads the object under key until
	// p.Expires, served as p.ContentType with a Content-Disposition naming
	// p.FileName. It does not check that the object exists.
	PresignGet(ctx context.Context, key string, p GetParams) (*PresignedRequest, error)
	// Stat returns the size of the object under key.
	Stat(ctx context.Context, key string) (int64, error)
	// Open returns a reader of the object under key; the caller closes it.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Put stores size bytes read from r under key, replacing any object
	// there. It is atomic: readers see the old object or the whole new
	// one, never a part. CodeInvalid when r holds more or fewer bytes.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Delete removes the object under key; a missing object is not an
	// error, so deletion can be retried.
	Delete(ctx context.Context, key string) error
}

// PutParams says what a presigned upload may store.
type PutParams struct {
	ContentType string
	Size        int64     // bytes, exactly
	Expires     time.Time // the request is refused after this instant
}

// GetParams says how a presigned download is served.
type GetParams struct {
	ContentType string
	FileName    string    // sent in Content-Disposition (attachment)
	Expires     time.Time // the URL is refused after this instant
}

// PresignedRequest is a request a client makes directly to the blob store.
// Headers must be sent as given (they are part of the signature); a
// browser sets Content-Length itself.
type PresignedRequest struct {
	Method  string
	URL     string
	Headers http.Header
	Expires time.Time
}

// MaxBlobKeyBytes bounds a blob key's length in bytes.
const MaxBlobKeyBytes = 200

// ValidBlobKey reports whether key may name a blob: 1 to MaxBlobKeyBytes
// bytes of ASCII letters, digits, '-', '_', '.' and '/', with no empty,
// "." or ".." segment. It keeps keys safe as file paths under a
// directory and as S3 keys alike.
func ValidBlobKey(key string) bool {
	if key == "" || len(key) > MaxBlobKeyBytes {
		return false
	}
	for _, c := range []byte(key) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '/'
		if !ok {
			return false
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
