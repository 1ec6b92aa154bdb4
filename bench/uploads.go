package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Uploads during the run (--upload-rate U): besides the senders, an
// uploader starts U uploads a second for the whole sending phase, each a
// 1 MiB image through the public flow (createUpload, the PUT of its bytes
// to the link it returns, completeUpload, which checks and thumbnails it).
// The subscribers still measure send→deliver of the messages: the figure
// shows what processing files costs the chat, the issue #13 target.

// Limits of the uploader.
const (
	// uploadSide is the side of the uploaded image: 592 × 592 opaque
	// pixels of noise, an incompressible PNG of 1 MiB (3 bytes a pixel:
	// 1,051,392 bytes and the chunks' few). (The tool this replaced sent
	// 512 × 512: 0.75 MiB.)
	uploadSide = 592
	// maxUploadsInFlight bounds the uploads running at once; a start due
	// while as many run is skipped (and counted), so a server that falls
	// behind is not buried under more.
	maxUploadsInFlight = 32
	// uploadTimeout bounds one upload, the three requests together.
	uploadTimeout = time.Minute
	// maxUploadRate bounds Config.UploadRate: each upload is 1 MiB.
	maxUploadRate = 100
)

// noisePNG returns the uploaded image: uploadSide² opaque pixels of
// seeded noise, the same bytes every run.
func noisePNG() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, uploadSide, uploadSide))
	rng := rand.New(rand.NewChaCha8([32]byte{'c', 'o', 'n', 'f', 'a', 'b'}))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.Uint32())
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // an in-memory NRGBA always encodes
	}
	return buf.Bytes()
}

// uploadState is the uploader and its accounting.
type uploadState struct {
	data       []byte // the image uploaded, made before the timed phase (noisePNG)
	ok, errors atomic.Int64
	busy       atomic.Int64 // refused with UNAVAILABLE: too many images in process
	skipped    atomic.Int64 // not started: maxUploadsInFlight were running
	mu         sync.Mutex
	lat        []float64 // guarded by mu: create to complete, ms
}

// run starts rate uploads a second, spread over the users and convs, until
// runCtx ends, then waits for those in flight (each within uploadTimeout
// of ctx).
func (st *uploadState) run(ctx, runCtx context.Context, tgt target, rate float64, convs []string) {
	if rate <= 0 {
		return
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	sem := make(chan struct{}, maxUploadsInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range maxSendsPerLoop { // the phase ends it first
		select {
		case <-runCtx.Done():
			return
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			st.skipped.Add(1)
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			uctx, cancel := context.WithTimeout(ctx, uploadTimeout)
			defer cancel()
			t0 := time.Now()
			err := tgt.upload(uctx, i, convs[i%len(convs)], st.data)
			switch {
			case errors.Is(err, errUploadBusy):
				st.busy.Add(1)
			case err != nil:
				st.errors.Add(1)
			default:
				st.ok.Add(1)
				st.mu.Lock()
				st.lat = append(st.lat, float64(time.Since(t0).Microseconds())/1000)
				st.mu.Unlock()
			}
		})
	}
}

// errUploadBusy is completeUpload refused with UNAVAILABLE: the server has
// as many images in process as it admits.
var errUploadBusy = errors.New("bench: upload refused: too many images in process")

// upload uploads data as a PNG to conv as user i (mod the users) through
// the send URL: createUpload, the PUT, completeUpload.
func (t *confabTarget) upload(ctx context.Context, i int, conv string, data []byte) error {
	u := t.users[i%len(t.users)]
	var created struct {
		CreateUpload struct {
			UploadID string `json:"uploadId"`
			URL      string `json:"url"`
			Method   string `json:"method"`
			Headers  []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"headers"`
		} `json:"createUpload"`
	}
	err := gqlWith(ctx, t.uploads, t.sendBase, u.token,
		`mutation($c:ID!,$s:Int!){ createUpload(conversationId:$c, fileName:"noise.png", contentType:"image/png", size:$s){ uploadId url method headers { name value } } }`,
		map[string]any{"c": conv, "s": len(data)}, &created)
	if err != nil {
		return err
	}
	c := created.CreateUpload
	target := c.URL
	if strings.HasPrefix(target, "/") { // the disk engine's links are relative to the server
		target = t.sendBase + target
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, target, bytes.NewReader(data))
	if err != nil {
		return err
	}
	for _, h := range c.Headers {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := t.uploads.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body) // drained so the connection is reused
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("upload PUT: status %d", resp.StatusCode)
	}
	err = gqlWith(ctx, t.uploads, t.sendBase, u.token, `mutation($u:ID!){ completeUpload(uploadId:$u){ width } }`, map[string]any{"u": c.UploadID}, nil)
	if err != nil && strings.Contains(err.Error(), `"UNAVAILABLE"`) {
		return fmt.Errorf("%w: %v", errUploadBusy, err)
	}
	return err
}

// upload is not something the baseline broadcaster can do.
func (b *baseline) upload(context.Context, int, string, []byte) error {
	return errors.New("baseline: no uploads")
}

func checkUploads(cfg Config) error {
	if cfg.UploadRate < 0 || cfg.UploadRate > maxUploadRate {
		return fmt.Errorf("bench: --upload-rate %g is not between 0 and %d", cfg.UploadRate, maxUploadRate)
	}
	if cfg.UploadRate > 0 && (cfg.Baseline || cfg.Durable) {
		return errors.New("bench: --upload-rate needs a confab server, not a baseline")
	}
	return nil
}
