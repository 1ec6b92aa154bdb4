// Package s3 is confab.BlobStore on any S3-compatible object store, for
// several nodes. It passes the contract suite blob/blobtest.
//
// Clients move the bytes to and from the object store on URLs presigned
// with the AWS SDK for Go v2 (SigV4 in the query string): confab never
// proxies them. A presigned PUT signs its Content-Type and Content-Length,
// so the store refuses another type or size. Credentials come from the
// standard AWS sources (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a
// profile, a role); the bucket must exist.
//
// It never decides who may read or write: chat mints a URL only for a
// caller it allowed.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/confab-chat/confab"
)

// MaxPresignLifetime is the longest a SigV4 presigned URL may live (7
// days, S3's limit); a later Expires is refused as CodeInvalid.
const MaxPresignLifetime = 7 * 24 * time.Hour

// MaxPutBytes bounds Put, which holds the object in memory to check its
// size before sending it (Put carries what the server makes: thumbnails
// and cleaned images, never more than an upload's limit).
const MaxPutBytes = 256 << 20

// Config configures a Store. Zero values mean the defaults beside each
// field.
type Config struct {
	// Endpoint is the store's URL, e.g. "http://127.0.0.1:8333". Default:
	// AWS S3 for Region.
	Endpoint string
	// Bucket holds every object. Required; it must exist.
	Bucket string
	// Region signs the requests. Default "us-east-1".
	Region string
	// VirtualHosted addresses the bucket as a host name
	// (bucket.endpoint) instead of a path (endpoint/bucket), which
	// S3-compatible servers expect. Default false; AWS accepts both.
	VirtualHosted bool
	// AccessKeyID and SecretAccessKey, when both set, sign every request.
	// Default: the standard AWS credential chain (environment, profile,
	// role).
	AccessKeyID, SecretAccessKey string
	// Now is the clock presigned URLs are signed with. Default time.Now.
	Now func() time.Time
	// Prefix is put before every object key in the bucket, so several
	// tenants share one bucket without sharing a key (a workspace's is
	// "ws/<id>/"). Default "": the keys as they are.
	Prefix string
}

// Store is confab.BlobStore on an S3 bucket.
type Store struct {
	client  *s3sdk.Client
	presign *s3sdk.PresignClient
	bucket  string
	prefix  string
	now     func() time.Time
}

var _ confab.BlobStore = (*Store)(nil)

// Open connects to the bucket and checks that it exists and answers. It
// starts no goroutine.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3: no bucket")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(cfg.Region)}
	if cfg.AccessKeyID != "" && cfg.SecretAccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: load AWS configuration: %w", err)
	}
	client := s3sdk.NewFromConfig(awsCfg, func(o *s3sdk.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = !cfg.VirtualHosted
		// S3-compatible stores often send no checksum; the SDK would log
		// each such response.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	s := &Store{client: client, presign: s3sdk.NewPresignClient(client), bucket: cfg.Bucket, prefix: cfg.Prefix, now: cfg.Now}
	if _, err := client.HeadBucket(ctx, &s3sdk.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return nil, fmt.Errorf("s3: bucket %q: %w", cfg.Bucket, err)
	}
	return s, nil
}

// checkKey refuses a key that is not ValidBlobKey.
func checkKey(key string) error {
	if !confab.ValidBlobKey(key) {
		return &confab.Error{Code: confab.CodeInvalid, Op: "s3", Err: fmt.Errorf("invalid blob key %q", key)}
	}
	return nil
}

// Stat implements confab.BlobStore.
func (s *Store) Stat(ctx context.Context, key string) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	out, err := s.client.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
	if err != nil {
		return 0, mapErr("stat", err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// Open implements confab.BlobStore.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
	if err != nil {
		return nil, mapErr("open", err)
	}
	return out.Body, nil
}

// Put implements confab.BlobStore. S3 stores an object whole or not at
// all, so readers never see a part.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if size < 0 || size > MaxPutBytes {
		return &confab.Error{Code: confab.CodeInvalid, Op: "s3.Put", Err: fmt.Errorf("size %d outside 0..%d", size, MaxPutBytes)}
	}
	buf := make([]byte, 0, size)
	b := bytes.NewBuffer(buf)
	if _, err := b.ReadFrom(io.LimitReader(r, size+1)); err != nil {
		return fmt.Errorf("s3: put: read: %w", err)
	}
	if int64(b.Len()) != size {
		return &confab.Error{Code: confab.CodeInvalid, Op: "s3.Put", Err: fmt.Errorf("got %d bytes, want %d", b.Len(), size)}
	}
	_, err := s.client.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key),
		Body: bytes.NewReader(b.Bytes()), ContentLength: aws.Int64(size), ContentType: &contentType})
	if err != nil {
		return mapErr("put", err)
	}
	return nil
}

// Delete implements confab.BlobStore; S3 deletes a missing key without
// error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)}); err != nil {
		return mapErr("delete", err)
	}
	return nil
}

// mapErr maps a 404 to CodeNotFound and wraps anything else.
func mapErr(op string, err error) error {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
		return &confab.Error{Code: confab.CodeNotFound, Op: "s3." + op}
	}
	return fmt.Errorf("s3: %s: %w", op, err)
}

// PresignPut implements confab.BlobStore.
func (s *Store) PresignPut(ctx context.Context, key string, p confab.PutParams) (*confab.PresignedRequest, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	in := &s3sdk.PutObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key), ContentType: aws.String(p.ContentType), ContentLength: aws.Int64(p.Size)}
	opt, err := s.presignAt(p.Expires)
	if err != nil {
		return nil, err
	}
	req, err := s.presign.PresignPutObject(ctx, in, opt)
	if err != nil {
		return nil, fmt.Errorf("s3: presign put: %w", err)
	}
	return result(req.Method, req.URL, req.SignedHeader, p.Expires), nil
}

// PresignGet implements confab.BlobStore.
func (s *Store) PresignGet(ctx context.Context, key string, p confab.GetParams) (*confab.PresignedRequest, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	in := &s3sdk.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key),
		ResponseContentType:        aws.String(p.ContentType),
		ResponseContentDisposition: aws.String(attachment(p.FileName))}
	opt, err := s.presignAt(p.Expires)
	if err != nil {
		return nil, err
	}
	req, err := s.presign.PresignGetObject(ctx, in, opt)
	if err != nil {
		return nil, fmt.Errorf("s3: presign get: %w", err)
	}
	return result(req.Method, req.URL, req.SignedHeader, p.Expires), nil
}

// result keeps the signed headers a client must send: the Host and
// Content-Length ones its HTTP library sets by itself.
func result(method, url string, signed http.Header, expires time.Time) *confab.PresignedRequest {
	h := http.Header{}
	for k, v := range signed {
		if k != "Host" && k != "Content-Length" {
			h[k] = v
		}
	}
	return &confab.PresignedRequest{Method: method, URL: url, Headers: h, Expires: time.Unix(expires.Unix(), 0).UTC()}
}

// presignAt returns the presign option that makes a URL expire at
// expires. SigV4 states a signing time and a lifetime in whole seconds
// (at least one): a URL that should already have expired is signed as
// one second long, one second before expires, so it is refused like any
// other stale link.
func (s *Store) presignAt(expires time.Time) (func(*s3sdk.PresignOptions), error) {
	now := s.now().UTC()
	lifetime := expires.Sub(now).Round(time.Second)
	if lifetime > MaxPresignLifetime {
		return nil, &confab.Error{Code: confab.CodeInvalid, Op: "s3.Presign", Err: fmt.Errorf("lifetime %s over %s", lifetime, MaxPresignLifetime)}
	}
	if lifetime < time.Second {
		now, lifetime = expires.Add(-time.Second), time.Second
	}
	return func(o *s3sdk.PresignOptions) {
		o.Expires = lifetime
		// S3 signs paths unescaped, as the SDK's own S3 presigner does.
		o.Presigner = fixedTime{v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true }), now}
	}, nil
}

// attachment is the Content-Disposition of a download named name.
func attachment(name string) string {
	return mime.FormatMediaType("attachment", map[string]string{"filename": name})
}

// fixedTime is the SDK's presigner with the signing time chosen by
// presignAt instead of the SDK's clock.
type fixedTime struct {
	signer *v4.Signer
	at     time.Time
}

func (f fixedTime) PresignHTTP(ctx context.Context, cred aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return f.signer.PresignHTTP(ctx, cred, r, payloadHash, service, region, f.at, optFns...)
}
