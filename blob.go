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

// Upload is a file a user sends to a conversation: created with a
// presigned target, filled by the client, checked (Ready) and then
// attached to one message of the same user and conversation.
type Upload struct {
	UploadID       string
	UserID         string
	ConversationID string
	FileName       string
	ContentType    string
	Size           int64 // declared at creation; the stored size once Ready
	CreatedAt      time.Time
	// ExpiresAt is when an upload never attached is removed.
	ExpiresAt time.Time
	// Ready says the bytes were checked and copied to their final key.
	Ready bool
	// Width and Height are an image's, in pixels (0 for other files).
	Width, Height int
	// ThumbType is the thumbnails' content type ("" without thumbnails).
	ThumbType string
	// MessageID is the message it is attached to ("" until attached).
	MessageID string
}

// Attachment is an upload attached to a message, as a reader sees it:
// URLs minted for that reader, valid until ExpiresAt.
type Attachment struct {
	AttachmentID string // the upload's id
	FileName     string
	ContentType  string
	Size         int64
	Width        *int
	Height       *int
	URL          string
	ThumbnailURL *string // the small thumbnail of an image
	PreviewURL   *string // the large thumbnail of an image
	ExpiresAt    time.Time
}

// UploadStore keeps uploads. Like Store, it holds no rules and every
// method is safe for concurrent use. store/storetest.RunUploads checks it.
type UploadStore interface {
	// InsertUpload stores a new upload. Its conversation must exist
	// (otherwise CodeNotFound).
	InsertUpload(ctx context.Context, u *Upload) error
	// GetUpload returns one upload by id.
	GetUpload(ctx context.Context, uploadID string) (*Upload, error)
	// MarkUploadReady records what the check found (Size, Width, Height,
	// ThumbType) and sets Ready.
	MarkUploadReady(ctx context.Context, u *Upload) error
	// AttachUploads sets MessageID of every upload of ids atomically, all
	// or none: each must be Ready, not attached, of userID and
	// conversationID, and not expired at now; otherwise nothing changes and
	// the error is CodeConflict.
	AttachUploads(ctx context.Context, ids []string, userID, conversationID, messageID string, now time.Time) error
	// DetachUploads clears MessageID of the uploads attached to messageID
	// (a message that was not stored after all).
	DetachUploads(ctx context.Context, messageID string) error
	// ListMessageUploads returns the uploads attached to each of
	// messageIDs, by message id, each message's in upload id order. At
	// most MaxPageLimit ids.
	ListMessageUploads(ctx context.Context, conversationID string, messageIDs []string) (map[string][]*Upload, error)
	// SumUploadBytes returns the total Size of userID's uploads created
	// at or after since (a quota's window).
	SumUploadBytes(ctx context.Context, userID string, since time.Time) (int64, error)
	// ListDeadUploads returns up to limit uploads to remove: those not
	// attached whose ExpiresAt is before now, and those attached to a
	// message that is deleted or no longer stored (retention).
	ListDeadUploads(ctx context.Context, now time.Time, limit int) ([]*Upload, error)
	// DeleteUpload removes the upload's record; a missing one is not an
	// error.
	DeleteUpload(ctx context.Context, uploadID string) error
}
