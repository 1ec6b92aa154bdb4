package chat_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/google/uuid"
)

// noisePNG is a side × side PNG of random pixels: it does not compress, so
// 512 × 512 is about 1 MiB.
func noisePNG(b testing.TB, side int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	rand.Read(img.Pix)
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// benchmarkUpload measures createUpload + PUT over HTTP + completeUpload
// on the disk engine, and reports p50 and p99 besides the mean.
func benchmarkUpload(b *testing.B, name, ctype string, body []byte) {
	fe := newFileEnv(b, chat.UploadConfig{MaxBytes: 64 << 20, QuotaBytesPerDay: -1})
	ctx := context.Background()
	id := uuid.NewString()
	if err := fe.store.InsertAccount(ctx, &confab.Account{User: confab.User{UserID: id, Username: "bench", Email: "bench@example.com", CreatedAt: time.Now().UTC()}, PasswordHash: "x"}); err != nil {
		b.Fatal(err)
	}
	who := confab.Identity{UserID: id, Username: "bench"}
	c, err := fe.svc.CreateConversation(ctx, who, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		up := fe.upload(b, who, c.ConversationID, name, ctype, body)
		if _, err := fe.svc.CompleteUpload(ctx, who, up); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, took)
}

func reportPercentiles(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkUpload_Image1MiB(b *testing.B) {
	benchmarkUpload(b, "noise.png", "image/png", noisePNG(b, 512))
}

func BenchmarkUpload_File20MiB(b *testing.B) {
	body := make([]byte, 20<<20)
	copy(body, "%PDF-1.7\n")
	benchmarkUpload(b, "big.pdf", "application/pdf", body)
}

// BenchmarkFileCopy_20MiB is the baseline: the same bytes copied to a new
// file on the same disk and synced, as the disk engine stores them once.
func BenchmarkFileCopy_20MiB(b *testing.B) {
	dir := b.TempDir()
	body := make([]byte, 20<<20)
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, body, 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		in, err := os.Open(src)
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dir, "dst"+string(rune('a'+i%26))))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			b.Fatal(err)
		}
		if err := out.Sync(); err != nil {
			b.Fatal(err)
		}
		out.Close()
		in.Close()
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, took)
}
