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
	// whole image in memory). Default: half the CPUs, at least one, so
	// thumbnailing leaves CPU for delivering messages.
	Workers int
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
}

// New returns a Processor for cfg.
func New(cfg Config) *Processor {
	if cfg.MaxPixels <= 0 {
		cfg.MaxPixels = DefaultMaxPixels
	}
	if cfg.MaxSide <= 0 {
		cfg.MaxSide = DefaultMaxSide
	}
	if cfg.Workers <= 0 {
		cfg.Workers = max(1, runtime.GOMAXPROCS(0)/2)
	}
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
	// Thumbs are the thumbnails for ThumbSizes, in order: JPEG for a
	// JPEG, PNG otherwise (keeping transparency).
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
// thumbnails. It waits for a worker, or returns ctx's error.
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
		if res.Clean, err = encode(format, img); err != nil {
			return nil, err
		}
	case "png":
		res.Clean = stripPNG(data)
	}
	src := img
	for i := len(ThumbSizes) - 1; i >= 0; i-- { // largest first; the next scales it down
		t := scale(src, ThumbSizes[i])
		res.Thumbs[i].Width, res.Thumbs[i].Height = t.Bounds().Dx(), t.Bounds().Dy()
		if t == img { // it fits: the image itself serves, encoded again it would only cost
			res.Thumbs[i].Original = true
			continue
		}
		tf := "png"
		if format == "jpeg" {
			tf = "jpeg"
		}
		res.Thumbs[i].ContentType = "image/" + tf
		if res.Thumbs[i].Data, err = encode(tf, t); err != nil {
			return nil, err
		}
		src = t
	}
	return res, nil
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

func encode(format string, img stdimage.Image) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if format == "jpeg" {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: JPEGQuality})
	} else {
		// BestSpeed: a photo-like PNG compresses little better at the
		// default level and takes several times longer (BENCHMARKS.md).
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img)
	}
	if err != nil {
		return nil, fmt.Errorf("image: encode %s: %w", format, err)
	}
	return buf.Bytes(), nil
}

// scale returns img fitted within side × side, never upscaled: an image
// that already fits is returned as it is.
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
	dst := stdimage.NewRGBA(stdimage.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}
