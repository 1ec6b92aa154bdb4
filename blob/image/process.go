package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	stdimage "image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"sync"

	"golang.org/x/image/draw"
)

// Limits on images, refused before any pixel is decoded.
const (
	// DefaultMaxPixels bounds width × height of an image: 40 megapixels,
	// about 160 MiB decoded as RGBA. A larger image (a decompression bomb
	// is a few KiB declaring 100,000 × 100,000) is refused from its header.
	DefaultMaxPixels = 40_000_000
	// DefaultMaxSide bounds the width and the height, in pixels.
	DefaultMaxSide = 16384
	// JPEGQuality is the quality of re-encoded JPEGs and of thumbnails.
	JPEGQuality = 85
)

// ThumbSizes are the longest sides of the two thumbnails, in pixels: a
// preview in the message list and a view that fills a phone screen.
var ThumbSizes = [2]int{320, 1280}

// ErrNotImage says that bytes declared as an image do not decode as one.
var ErrNotImage = errors.New("image: not a decodable image")

// ErrTooLarge says that an image's dimensions are over the limits.
var ErrTooLarge = errors.New("image: dimensions over the limits")

// ErrBusy says that as many images as Config.MaxJobs are admitted already.
var ErrBusy = errors.New("image: too many images in process")

// Config configures a Processor. Zero values mean the defaults.
type Config struct {
	MaxPixels int64 // default DefaultMaxPixels
	MaxSide   int   // default DefaultMaxSide
	// Workers bounds the images processed at once (decoding holds the
	// whole image in memory). Default DefaultWorkers(): a quarter of the
	// CPUs, at least one, so thumbnailing leaves CPU for delivering
	// messages.
	Workers int
	// Nice, when 1 to 19, is the nice value of the OS threads that
	// decode, scale and encode images, on Linux: when the CPUs are short
	// the kernel runs the server's other threads first. Default 0: the
	// server's own priority. Off by default because a thread the kernel
	// holds back still holds one of Go's Ps, and every stop-the-world of
	// the collector waits for it (BENCHMARKS.md, issue #13: no better on
	// a busy host). Elsewhere than Linux it has no effect.
	Nice int
	// MaxJobs bounds the images admitted at once, running or waiting for
	// a worker (Admit): each holds its bytes in memory meanwhile. Default
	// 4 × Workers.
	MaxJobs int
}

// Processor decodes, cleans and thumbnails images in a bounded pool: at
// most Config.Workers run at once, the others wait (or give up when their
// context ends). Safe for concurrent use; it starts no goroutine.
type Processor struct {
	cfg  Config
	sem  chan struct{} // one token per running job
	jobs chan struct{} // one token per admitted job (Admit)
	pngs pngBuffers    // the PNG encoders' buffers, reused
}

// DefaultWorkers is Config.Workers' default: a quarter of the CPUs Go
// uses (GOMAXPROCS), at least one: one on 2 to 7 CPUs, two on 8.
func DefaultWorkers() int { return max(1, runtime.GOMAXPROCS(0)/4) }

// New returns a Processor for cfg.
func New(cfg Config) *Processor {
	if cfg.MaxPixels <= 0 {
		cfg.MaxPixels = DefaultMaxPixels
	}
	if cfg.MaxSide <= 0 {
		cfg.MaxSide = DefaultMaxSide
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers()
	}
	cfg.Nice = min(cfg.Nice, 19)
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = 4 * cfg.Workers
	}
	return &Processor{cfg: cfg, sem: make(chan struct{}, cfg.Workers), jobs: make(chan struct{}, cfg.MaxJobs)}
}

// Admit reserves a place for one image before its bytes are read, so
// that images waiting for a worker hold at most MaxJobs uploads in
// memory; ErrBusy when there is none (at once, without waiting). Call
// release when done with the image.
func (p *Processor) Admit() (release func(), err error) {
	select {
	case p.jobs <- struct{}{}:
		return func() { <-p.jobs }, nil
	default:
		return nil, ErrBusy
	}
}

// Result is a processed image.
type Result struct {
	Width, Height int // of the image as displayed (after EXIF orientation)
	// Clean is the image to store in place of the upload, without its
	// metadata: a JPEG re-encoded (its orientation applied), a PNG with its
	// metadata chunks dropped (lossless). Nil when the upload can be
	// stored as it is: a PNG without metadata, or a GIF (no EXIF; a
	// re-encode would lose its animation).
	Clean []byte
	// Thumbs are the thumbnails for ThumbSizes, in order: JPEG, or PNG
	// for an image with transparency (see thumbFormat).
	Thumbs [len(ThumbSizes)]Thumb
}

// Thumb is one thumbnail.
type Thumb struct {
	Width, Height int
	// Original says the image fits this size: it serves as its own
	// thumbnail (never upscaled), and Data and ContentType are empty.
	Original    bool
	ContentType string
	Data        []byte
}

// FitsThumb reports whether an image of w × h serves as its own thumbnail
// of size index i (Thumb.Original).
func FitsThumb(w, h, i int) bool { return w <= ThumbSizes[i] && h <= ThumbSizes[i] }

// Header returns an image's format ("png", "jpeg", "gif") and dimensions
// from its header, decoding no pixel: ErrTooLarge over the limits,
// ErrNotImage when the header is not an image's.
func (p *Processor) Header(data []byte) (string, int, int, error) {
	c, format, err := stdimage.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg" && format != "gif") {
		return "", 0, 0, ErrNotImage
	}
	if c.Width <= 0 || c.Height <= 0 || c.Width > p.cfg.MaxSide || c.Height > p.cfg.MaxSide ||
		int64(c.Width)*int64(c.Height) > p.cfg.MaxPixels {
		return "", 0, 0, fmt.Errorf("%w: %d × %d", ErrTooLarge, c.Width, c.Height)
	}
	return format, c.Width, c.Height, nil
}

// Process checks data's header (Header), then decodes it, applies its
// EXIF orientation, re-encodes it without metadata and makes the
// thumbnails. It waits for a worker, or returns ctx's error. With
// Config.Nice the work runs on an OS thread of its own at that priority.
func (p *Processor) Process(ctx context.Context, data []byte) (*Result, error) {
	format, _, _, err := p.Header(data)
	if err != nil {
		return nil, err
	}
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.sem }()
	var res *Result
	p.background(func() { res, err = p.process(format, data) })
	return res, err
}

// background runs work. With Config.Nice it runs on a goroutine locked
// to an OS thread at that nice value, and waits for it; the goroutine
// ends still locked, so the thread ends with it and its priority never
// reaches other work, and a panic in work is raised again in the caller.
func (p *Processor) background(work func()) {
	if p.cfg.Nice <= 0 {
		work()
		return
	}
	var panicked any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { panicked = recover() }()
		runtime.LockOSThread() // never unlocked: see above
		lowerPriority(p.cfg.Nice)
		work()
	}()
	<-done
	if panicked != nil {
		panic(panicked)
	}
}

// process is Process once a worker is free.
func (p *Processor) process(format string, data []byte) (*Result, error) {
	img, err := decode(format, data)
	if err != nil {
		return nil, ErrNotImage
	}
	res := &Result{}
	if format == "jpeg" {
		img = orient(img, exifOrientation(data))
	}
	b := img.Bounds()
	res.Width, res.Height = b.Dx(), b.Dy()
	switch format {
	case "jpeg": // EXIF lives in APP1 with the orientation applied above
		if res.Clean, err = p.encode(format, img); err != nil {
			return nil, err
		}
	case "png":
		res.Clean = stripPNG(data)
	}
	src := img
	tf := ""                                    // the thumbnails' format, chosen on the first one made
	for i := len(ThumbSizes) - 1; i >= 0; i-- { // largest first; the next scales it down
		t := scale(src, ThumbSizes[i])
		res.Thumbs[i].Width, res.Thumbs[i].Height = t.Bounds().Dx(), t.Bounds().Dy()
		if t == img { // it fits: the image itself serves, encoded again it would only cost
			res.Thumbs[i].Original = true
			continue
		}
		if tf == "" {
			tf = thumbFormat(format, t)
		}
		res.Thumbs[i].ContentType = "image/" + tf
		if res.Thumbs[i].Data, err = p.encode(tf, t); err != nil {
			return nil, err
		}
		src = t
	}
	return res, nil
}

// thumbFormat is the format of an image's thumbnails, given the first
// one: JPEG unless it has transparency, which only PNG keeps. (A PNG
// thumbnail costs about three times a JPEG's to encode, and weighs more.)
func thumbFormat(format string, thumb stdimage.Image) string {
	if o, ok := thumb.(interface{ Opaque() bool }); format == "jpeg" || (ok && o.Opaque()) {
		return "jpeg"
	}
	return "png"
}

func decode(format string, data []byte) (stdimage.Image, error) {
	r := bytes.NewReader(data)
	switch format {
	case "png":
		return png.Decode(r)
	case "jpeg":
		return jpeg.Decode(r)
	default:
		return gif.Decode(r) // the first frame
	}
}

func (p *Processor) encode(format string, img stdimage.Image) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if format == "jpeg" {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: JPEGQuality})
	} else {
		// BestSpeed: a photo-like PNG compresses little better at the
		// default level and takes several times longer (BENCHMARKS.md).
		err = (&png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &p.pngs}).Encode(&buf, img)
	}
	if err != nil {
		return nil, fmt.Errorf("image: encode %s: %w", format, err)
	}
	return buf.Bytes(), nil
}

// scale returns img fitted within side × side, never upscaled: an image
// that already fits is returned as it is. It halves the image while it is
// at least twice the size (bilinear at exactly half is the average of each
// 2 × 2 block: a box filter, no aliasing), then scales the rest of the
// way, less than 2×, bilinearly. Each step allocates only its result,
// where a kernel scaler (CatmullRom) allocates width out × height in ×
// 32 bytes of scratch: 120 MiB for a 12-megapixel photo's preview.
func scale(img stdimage.Image, side int) stdimage.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= side && h <= side {
		return img
	}
	if w >= h {
		w, h = side, max(1, h*side/w)
	} else {
		w, h = max(1, w*side/h), side
	}
	for b.Dx() >= 2*w && b.Dy() >= 2*h {
		img = resize(img, b.Dx()/2, b.Dy()/2)
		b = img.Bounds()
	}
	return resize(img, w, h)
}

// resize returns img scaled to w × h, bilinearly.
func resize(img stdimage.Image, w, h int) *stdimage.RGBA {
	dst := stdimage.NewRGBA(stdimage.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	return dst
}

// pngBuffers is a png.EncoderBufferPool: the encoders' compressor and row
// buffers (about 1 MiB) are reused rather than left to the collector.
type pngBuffers struct{ pool sync.Pool }

func (b *pngBuffers) Get() *png.EncoderBuffer {
	eb, _ := b.pool.Get().(*png.EncoderBuffer)
	return eb // nil when empty: the encoder makes one
}

func (b *pngBuffers) Put(eb *png.EncoderBuffer) { b.pool.Put(eb) }
