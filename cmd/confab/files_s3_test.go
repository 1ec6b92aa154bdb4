package main

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg" // thumbnails of opaque images
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3Target returns the endpoint, access key and secret of CONFAB_TEST_S3
// (http://KEY:SECRET@host:port, see blob/s3/testdata/start-s3.sh); the
// test skips without it, or fails when CI requires it.
func s3Target(t *testing.T) (endpoint, key, secret string) {
	t.Helper()
	raw := os.Getenv("CONFAB_TEST_S3")
	if raw == "" {
		for _, name := range strings.FieldsFunc(os.Getenv("CONFAB_TEST_REQUIRE"), func(r rune) bool { return r == ',' || r == ' ' }) {
			if name == "all" || name == "s3" {
				t.Fatal("CONFAB_TEST_S3 is unset and CONFAB_TEST_REQUIRE asks for s3")
			}
		}
		t.Skip("CONFAB_TEST_S3 is unset: start blob/s3/testdata/start-s3.sh and export its URL")
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		t.Fatalf("CONFAB_TEST_S3 = %q: want http://KEY:SECRET@host:port", raw)
	}
	secret, _ = u.User.Password()
	key = u.User.Username()
	u.User = nil
	return u.String(), key, secret
}

// TestMultiNode_FilesOnS3: two nodes share PostgreSQL, NATS and a bucket;
// Alice uploads through node A (the bytes go to the object store, not to
// confab), Bob reads the message through node B and downloads the file
// from the store, byte-identical, and the image's thumbnail.
func TestMultiNode_FilesOnS3(t *testing.T) {
	endpoint, key, secret := s3Target(t)
	pg := postgresURL(t)
	natsURL := startNATS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	bucket := "confab-multinode"
	createTestBucket(t, endpoint, key, secret, bucket)

	keyDir := t.TempDir()
	shared := []string{"--store", "postgres", "--postgres", pg, "--broker", "nats", "--nats", natsURL,
		"--key-file", filepath.Join(keyDir, "key.pem"), "--blob", "s3", "--s3-endpoint", endpoint, "--s3-bucket", bucket}
	nodeA := runMainOn(t, shared...)
	nodeB := runMainOn(t, shared...)

	alice, bob := nodeA.signUp(t, "alice"), nodeA.signUp(t, "bob")
	cid := nodeA.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	doc := bytes.Repeat([]byte("%PDF-1.4\n"), 50_000) // 450 kB
	docID := nodeA.uploadFile(t, alice.idToken, cid, "big.pdf", "application/pdf", doc)
	imgID := nodeA.uploadFile(t, alice.idToken, cid, "photo.png", "image/png", testPNG(t, 640, 480))
	nodeA.mustGQL(t, alice.idToken, sendFiles, map[string]any{"c": cid, "a": []string{docID, imgID}})

	items := nodeB.mustGQL(t, bob.idToken, listFiles, map[string]any{"c": cid})["listMessages"].(map[string]any)["items"].([]any)
	for _, x := range items[0].(map[string]any)["attachments"].([]any) {
		att := x.(map[string]any)
		link := att["url"].(string)
		if !strings.HasPrefix(link, endpoint) {
			t.Fatalf("link %s does not point at the object store %s", link, endpoint)
		}
		switch att["fileName"] {
		case "big.pdf":
			if status, body := nodeB.download(t, link); status != 200 || !bytes.Equal(body, doc) {
				t.Fatalf("PDF through node B: %d, %d bytes; want the %d sent", status, len(body), len(doc))
			}
		case "photo.png":
			status, body := nodeB.download(t, att["thumbnailUrl"].(string))
			img, _, err := image.Decode(bytes.NewReader(body)) // a JPEG: the photo is opaque
			if status != 200 || err != nil || img.Bounds().Dx() != 320 || img.Bounds().Dy() != 240 {
				t.Fatalf("thumbnail through node B: %d, %v", status, err)
			}
		}
	}
}

// runMainOn starts Main serve with a fresh data directory and extra flags.
func runMainOn(t *testing.T, extra ...string) *app {
	t.Helper()
	a, stop := startMain(t, t.TempDir(), extra...)
	t.Cleanup(stop)
	return a
}

func createTestBucket(t *testing.T, endpoint, key, secret, bucket string) {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(key, secret, "")))
	if err != nil {
		t.Fatal(err)
	}
	c := s3sdk.NewFromConfig(cfg, func(o *s3sdk.Options) { o.BaseEndpoint = aws.String(endpoint); o.UsePathStyle = true })
	if _, err := c.HeadBucket(context.Background(), &s3sdk.HeadBucketInput{Bucket: &bucket}); err == nil {
		return
	}
	if _, err := c.CreateBucket(context.Background(), &s3sdk.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
}
