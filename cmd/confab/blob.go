package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/blob/disk"
	"github.com/confab-chat/confab/blob/image"
	"github.com/confab-chat/confab/blob/s3"
	"github.com/confab-chat/confab/chat"
)

// uploadSweepInterval is how often dead uploads (expired, or of deleted
// or purged messages) are removed.
const uploadSweepInterval = time.Minute

// blobConfig holds the settings of files (issue 13).
type blobConfig struct {
	Engine         string
	S3Endpoint     string
	S3Bucket       string
	S3Region       string
	MaxUploadBytes int
	QuotaBytes     int
	Types          string
	ImageWorkers   int
	ImageNice      int
	// Prefix is the key prefix of the S3 objects (a workspace's ws/<id>/)
	// and URLBase what the disk engine's links start with instead of the
	// public URL (a workspace's <public URL>/w/<id>, or /w/<id>): set by
	// serveConfig.forWorkspace, not flags.
	Prefix, URLBase string
}

// blobSettings are the flags of files.
func blobSettings(c *blobConfig) []setting {
	return []setting{
		{"blob", "disk", "where files live: disk (<data>/blobs; this server serves their signed links), s3 (any S3-compatible store, for several nodes) or off", str(&c.Engine)},
		{"s3-endpoint", "", "S3-compatible endpoint URL for --blob s3 (default: AWS S3 for --s3-region); credentials from the AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, a profile or a role)", str(&c.S3Endpoint)},
		{"s3-bucket", "", "bucket for --blob s3; it must exist", str(&c.S3Bucket)},
		{"s3-region", "us-east-1", "region for --blob s3", str(&c.S3Region)},
		{"max-upload-bytes", "0", "largest file in bytes", pkgDefault(integer(&c.MaxUploadBytes), "chat", chat.DefaultMaxUploadBytes)},
		{"upload-quota-bytes", "0", "bytes each user may upload per UTC day; over it is RATE_LIMITED (-1: unlimited)", pkgDefault(integer(&c.QuotaBytes), "chat", chat.DefaultUploadQuotaBytes)},
		{"image-workers", "0", "images decoded and thumbnailed at once; more wait (up to 4 × as many are admitted, then UNAVAILABLE)", pkgDefault(integer(&c.ImageWorkers), "image", fmt.Sprintf("a quarter of the CPUs, at least 1: %d here", image.DefaultWorkers()))},
		{"image-nice", "0", "nice value (1-19) of the threads that process images, on Linux, so that the kernel runs the rest of the server first; 0: the server's own priority (a held-back thread delays the collector's stop-the-world: see BENCHMARKS.md, issue #13)", integer(&c.ImageNice)},
		{"upload-types", "", "comma-separated content types users may upload (default: PNG, JPEG and GIF images, PDF, text, Markdown, CSV, ZIP, gzip, 7z, Office and OpenDocument files)", str(&c.Types)},
	}
}

// openBlobs opens the blob engine and returns the chat option that
// enables files, and the handler of the disk engine's links (nil for S3).
// images is the process's one image pool, shared by every workspace so
// that --image-workers bounds the server, not each workspace.
// A store that does not keep uploads (every store of this repository
// does) turns files off, with a warning.
func openBlobs(ctx context.Context, c blobConfig, dataDir, publicURL string, st confab.Store, images *image.Processor, logger *slog.Logger) ([]chat.Option, http.Handler, error) {
	if c.Engine == "off" {
		return nil, nil, nil
	}
	uploads, ok := st.(confab.UploadStore)
	if !ok {
		logger.Warn("files are off: the store does not keep uploads", "store", fmt.Sprintf("%T", st))
		return nil, nil, nil
	}
	cfg := chat.UploadConfig{MaxBytes: int64(c.MaxUploadBytes), QuotaBytesPerDay: int64(c.QuotaBytes), AllowedTypes: splitList(c.Types)}
	for _, t := range cfg.AllowedTypes {
		if !image.Known(t) {
			return nil, nil, usageError{fmt.Sprintf("serve: --upload-types: %q is not a type confab can check", t)}
		}
	}
	var blobs confab.BlobStore
	var handler http.Handler
	switch c.Engine {
	case "disk":
		base := publicURL
		if c.URLBase != "" {
			base = c.URLBase
		}
		d, err := disk.Open(disk.Config{Dir: filepath.Join(dataDir, "blobs"), BaseURL: base})
		if err != nil {
			return nil, nil, err
		}
		blobs, handler = d, d.Handler()
	case "s3":
		if c.S3Bucket == "" {
			return nil, nil, usageError{"serve: --blob s3 needs --s3-bucket"}
		}
		s, err := s3.Open(ctx, s3.Config{Endpoint: c.S3Endpoint, Bucket: c.S3Bucket, Region: c.S3Region, Prefix: c.Prefix})
		if err != nil {
			return nil, nil, err
		}
		blobs = s
	default:
		return nil, nil, usageError{fmt.Sprintf("unknown --blob %q (want disk, s3 or off)", c.Engine)}
	}
	opt := chat.WithUploads(blobs, uploads, images, cfg)
	return []chat.Option{opt}, handler, nil
}

// imagePool is the image pool of --image-workers and --image-nice.
func imagePool(c blobConfig) *image.Processor {
	return image.New(image.Config{Workers: c.ImageWorkers, Nice: c.ImageNice})
}

// startUploadSweeper removes dead uploads every uploadSweepInterval until
// stop, which waits for it.
func startUploadSweeper(ctx context.Context, svc *chat.Service) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.RunUploadSweeper(ctx, uploadSweepInterval)
	}()
	return func() {
		cancel()
		<-done
	}
}
