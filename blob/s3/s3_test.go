package s3_test

import (
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/blob/blobtest"
	"github.com/confab-chat/confab/blob/s3"
)

// target is where CONFAB_TEST_S3 points: an S3-compatible server's URL
// with the access key and secret as its user info, e.g.
// http://KEY:SECRET@127.0.0.1:18333 (blob/s3/testdata/start-s3.sh prints
// it). When it is unset the test is skipped, or fails when
// CONFAB_TEST_REQUIRE is "all" or a list naming s3, as CI sets it.
type target struct {
	endpoint, key, secret string
}

func testTarget(t *testing.T) target {
	t.Helper()
	raw := os.Getenv("CONFAB_TEST_S3")
	if raw == "" {
		const msg = "CONFAB_TEST_S3 is unset: start a server with blob/s3/testdata/start-s3.sh and export the URL it prints"
		for _, name := range strings.FieldsFunc(os.Getenv("CONFAB_TEST_REQUIRE"), func(r rune) bool { return r == ',' || r == ' ' }) {
			if name == "all" || name == "s3" {
				t.Fatal(msg + " (CONFAB_TEST_REQUIRE asks for s3)")
			}
		}
		t.Skip(msg)
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		t.Fatalf("CONFAB_TEST_S3 = %q: want http://KEY:SECRET@host:port", raw)
	}
	secret, _ := u.User.Password()
	tg := target{key: u.User.Username(), secret: secret}
	u.User = nil
	tg.endpoint = u.String()
	return tg
}

const bucket = "confab-test"

var makeBucket sync.Once

// open returns a Store on the test bucket, creating the bucket once.
// Subtests use keys of their own, so they share it.
func open(t *testing.T) *s3.Store {
	t.Helper()
	tg := testTarget(t)
	makeBucket.Do(func() { createBucket(t, tg) })
	s, err := s3.Open(t.Context(), s3.Config{Endpoint: tg.endpoint, Bucket: bucket, AccessKeyID: tg.key, SecretAccessKey: tg.secret})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func createBucket(t *testing.T, tg target) {
	cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(tg.key, tg.secret, "")))
	if err != nil {
		t.Fatal(err)
	}
	c := s3sdk.NewFromConfig(cfg, func(o *s3sdk.Options) { o.BaseEndpoint = aws.String(tg.endpoint); o.UsePathStyle = true })
	_, err = c.CreateBucket(t.Context(), &s3sdk.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		t.Fatalf("create bucket: %v", err)
	}
}

func TestStore_Contract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) confab.BlobStore { return open(t) })
}

// TestOpen_ErrMissingBucket: a bucket that does not exist is an error at
// Open, not at the first upload.
func TestOpen_ErrMissingBucket(t *testing.T) {
	tg := testTarget(t)
	_, err := s3.Open(t.Context(), s3.Config{Endpoint: tg.endpoint, Bucket: "confab-no-such-bucket", AccessKeyID: tg.key, SecretAccessKey: tg.secret})
	if err == nil {
		t.Fatal("Open of a missing bucket succeeded")
	}
}

// TestOpen_ErrWrongSecret: the server checks signatures (otherwise the
// contract suite's forged-URL cases would prove nothing).
func TestOpen_ErrWrongSecret(t *testing.T) {
	tg := testTarget(t)
	open(t) // the bucket exists
	_, err := s3.Open(t.Context(), s3.Config{Endpoint: tg.endpoint, Bucket: bucket, AccessKeyID: tg.key, SecretAccessKey: tg.secret + "x"})
	if err == nil {
		t.Fatal("Open with a wrong secret succeeded")
	}
}

// TestStore_Prefix: a store with a Prefix (a workspace's, ws/<id>/) keeps
// its objects under it; the same key in the bucket's root is another
// object.
func TestStore_Prefix(t *testing.T) {
	root := open(t)
	tg := testTarget(t)
	acme, err := s3.Open(t.Context(), s3.Config{Endpoint: tg.endpoint, Bucket: bucket, AccessKeyID: tg.key, SecretAccessKey: tg.secret, Prefix: "ws/acme/"})
	if err != nil {
		t.Fatal(err)
	}
	key := "prefix-test/" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := acme.Put(t.Context(), key, strings.NewReader("acme"), 4, "text/plain"); err != nil {
		t.Fatal(err)
	}
	if n, err := root.Stat(t.Context(), "ws/acme/"+key); err != nil || n != 4 {
		t.Errorf("root Stat(ws/acme/%s) = %d, %v; want the object", key, n, err)
	}
	if _, err := root.Stat(t.Context(), key); confab.ErrorCode(err) != confab.CodeNotFound {
		t.Errorf("root Stat(%s) = %v, want NOT_FOUND", key, err)
	}
	if err := acme.Delete(t.Context(), key); err != nil {
		t.Fatal(err)
	}
}
