package image

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	stdimage "image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"runtime"
	"testing"
)

// quadrants returns a w × h image whose top-left quarter is red and the
// rest blue, so that turns and scaling can be checked by colour.
func quadrants(w, h int) *stdimage.RGBA {
	img := stdimage.NewRGBA(stdimage.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{0, 0, 255, 255}
			if x < w/2 && y < h/2 {
				c = color.RGBA{255, 0, 0, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func encodePNG(t *testing.T, img stdimage.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t *testing.T, img stdimage.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withEXIF inserts after a JPEG's SOI an APP1 EXIF segment holding the
// orientation o and a GPS IFD whose latitude reference is the marker
// "GPSMARK", as a phone's camera writes one.
func withEXIF(jpg []byte, o uint16) []byte {
	le := binary.LittleEndian
	tiff := []byte("II*\x00\x08\x00\x00\x00")
	ifd := make([]byte, 2+2*12+4)
	le.PutUint16(ifd, 2)
	// 0x0112 Orientation, SHORT, 1, value o
	le.PutUint16(ifd[2:], 0x0112)
	le.PutUint16(ifd[4:], 3)
	le.PutUint32(ifd[6:], 1)
	le.PutUint16(ifd[10:], o)
	// 0x8825 GPS IFD pointer, LONG, 1, offset right after IFD0
	gpsOff := uint32(8 + len(ifd))
	le.PutUint16(ifd[14:], 0x8825)
	le.PutUint16(ifd[16:], 4)
	le.PutUint32(ifd[18:], 1)
	le.PutUint32(ifd[22:], gpsOff)
	gps := make([]byte, 2+12+4)
	le.PutUint16(gps, 1)
	le.PutUint16(gps[2:], 0x0001) // GPSLatitudeRef, ASCII, 8 bytes at an offset
	le.PutUint16(gps[4:], 2)
	le.PutUint32(gps[6:], 8)
	le.PutUint32(gps[10:], gpsOff+uint32(len(gps)))
	tiff = append(append(append(tiff, ifd...), gps...), "GPSMARK\x00"...)
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(len(seg)+2))
	out := append([]byte{0xff, 0xd8}, app1...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// pngHeader returns a PNG of only a signature and an IHDR declaring
// w × h: what a decompression bomb shows before its pixels.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale
	chunk := binary.BigEndian.AppendUint32(nil, 13)
	chunk = append(chunk, "IHDR"...)
	chunk = append(chunk, ihdr...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	return append([]byte("\x89PNG\r\n\x1a\n"), chunk...)
}

func TestProcessor_Process(t *testing.T) {
	p := New(Config{})
	// An opaque PNG's thumbnails are JPEGs (cheaper to make, lighter);
	// one with transparency keeps it in PNG thumbnails.
	for _, tt := range []struct {
		name        string
		transparent bool
		wantType    string
		decode      func(io.Reader) (stdimage.Image, error)
	}{
		{"OK/OpaquePNGJPEGThumbnails", false, "image/jpeg", jpeg.Decode},
		{"OK/TransparentPNGThumbnails", true, "image/png", png.Decode},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := quadrants(2000, 1000)
			if tt.transparent {
				src.SetRGBA(1999, 999, color.RGBA{}) // one transparent pixel in the bottom-right corner
			}
			res, err := p.Process(t.Context(), encodePNG(t, src))
			if err != nil {
				t.Fatal(err)
			}
			if res.Width != 2000 || res.Height != 1000 {
				t.Fatalf("size = %d × %d, want 2000 × 1000", res.Width, res.Height)
			}
			for i, want := range [][2]int{{320, 160}, {1280, 640}} {
				th := res.Thumbs[i]
				img, err := tt.decode(bytes.NewReader(th.Data))
				if err != nil || th.ContentType != tt.wantType {
					t.Fatalf("thumb %d: %s, decode: %v; want %s", i, th.ContentType, err, tt.wantType)
				}
				if b := img.Bounds(); b.Dx() != want[0] || b.Dy() != want[1] || th.Width != want[0] || th.Height != want[1] {
					t.Fatalf("thumb %d = %v (says %d × %d), want %d × %d", i, b, th.Width, th.Height, want[0], want[1])
				}
				wantColour(t, img, want[0]/4, want[1]/4, 255, 0, 0)
				wantColour(t, img, want[0]*3/4, want[1]*3/4, 0, 0, 255)
			}
		})
	}
	t.Run("OK/NeverUpscaled", func(t *testing.T) {
		res, err := p.Process(t.Context(), encodePNG(t, quadrants(100, 40)))
		if err != nil {
			t.Fatal(err)
		}
		for i, th := range res.Thumbs {
			if th.Width != 100 || th.Height != 40 || !th.Original || th.Data != nil || !FitsThumb(100, 40, i) {
				t.Errorf("thumb %d = %d × %d (original %v, %d bytes), want the original 100 × 40 serving as it", i, th.Width, th.Height, th.Original, len(th.Data))
			}
		}
	})
	t.Run("OK/JPEGLosesEXIFAndIsTurned", func(t *testing.T) {
		src := withEXIF(encodeJPEG(t, quadrants(400, 200)), 6) // 6: turn 90° clockwise to show
		if exifOrientation(src) != 6 || !bytes.Contains(src, []byte("GPSMARK")) {
			t.Fatal("the test image lacks its EXIF")
		}
		res, err := p.Process(t.Context(), src)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(res.Clean, []byte("Exif")) || bytes.Contains(res.Clean, []byte("GPSMARK")) {
			t.Fatal("the cleaned image still carries EXIF")
		}
		img, err := jpeg.Decode(bytes.NewReader(res.Clean))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 200 || b.Dy() != 400 || res.Width != 200 || res.Height != 400 {
			t.Fatalf("cleaned = %v (says %d × %d), want 200 × 400 (turned)", b, res.Width, res.Height)
		}
		// Turned clockwise, the red top-left quarter is now top-right.
		wantColour(t, img, 150, 100, 255, 0, 0)
		wantColour(t, img, 50, 100, 0, 0, 255)
		if th := res.Thumbs[0]; th.ContentType != "image/jpeg" || th.Width != 160 || th.Height != 320 {
			t.Fatalf("thumb = %s %d × %d, want image/jpeg 160 × 320", th.ContentType, th.Width, th.Height)
		}
	})
	t.Run("ErrBombRefusedFromHeader", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			w, h uint32
		}{{"Square", 100_000, 100_000}, {"Pixels", 10_000, 5_000}, {"Side", 20_000, 10}} {
			_, err := p.Process(t.Context(), pngHeader(tt.w, tt.h))
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("%s (%d × %d): err = %v, want ErrTooLarge", tt.name, tt.w, tt.h, err)
			}
		}
	})
	t.Run("ErrNotImage", func(t *testing.T) {
		for name, data := range map[string][]byte{
			"PDF":       []byte("%PDF-1.7\n1 0 obj\n"),
			"Truncated": encodePNG(t, quadrants(50, 50))[:60],
			"Empty":     nil,
		} {
			if _, err := p.Process(t.Context(), data); !errors.Is(err, ErrNotImage) {
				t.Errorf("%s: err = %v, want ErrNotImage", name, err)
			}
		}
	})
}

// TestProcessor_Process_WaitsForWorker: with every worker busy, a job
// waits, and gives up when its context ends.
func TestProcessor_Process_WaitsForWorker(t *testing.T) {
	p := New(Config{Workers: 1})
	p.sem <- struct{}{} // the one worker is busy
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.Process(ctx, encodePNG(t, quadrants(10, 10))); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	<-p.sem
	if _, err := p.Process(t.Context(), encodePNG(t, quadrants(10, 10))); err != nil {
		t.Fatalf("with the worker free: %v", err)
	}
}

func wantColour(t *testing.T, img stdimage.Image, x, y int, r, g, b uint8) {
	t.Helper()
	cr, cg, cb, _ := img.At(x, y).RGBA()
	near := func(got uint32, want uint8) bool { d := int(got>>8) - int(want); return d > -40 && d < 40 }
	if !near(cr, r) || !near(cg, g) || !near(cb, b) {
		t.Errorf("pixel (%d, %d) = %d,%d,%d, want about %d,%d,%d", x, y, cr>>8, cg>>8, cb>>8, r, g, b)
	}
}

func TestOrient_AllEight(t *testing.T) {
	// A 3 × 2 image with a red pixel at its top-left: where each
	// orientation puts it when showing the image upright.
	src := stdimage.NewRGBA(stdimage.Rect(0, 0, 3, 2))
	src.SetRGBA(0, 0, color.RGBA{255, 0, 0, 255})
	tests := []struct {
		o          int
		w, h, x, y int
	}{
		{1, 3, 2, 0, 0}, {2, 3, 2, 2, 0}, {3, 3, 2, 2, 1}, {4, 3, 2, 0, 1},
		{5, 2, 3, 0, 0}, {6, 2, 3, 1, 0}, {7, 2, 3, 1, 2}, {8, 2, 3, 0, 2},
	}
	for _, tt := range tests {
		got := orient(src, tt.o)
		if b := got.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
			t.Errorf("orientation %d: %v, want %d × %d", tt.o, b, tt.w, tt.h)
			continue
		}
		if r, _, _, _ := got.At(tt.x, tt.y).RGBA(); r>>8 != 255 {
			t.Errorf("orientation %d: the red pixel is not at (%d, %d)", tt.o, tt.x, tt.y)
		}
	}
}

// withChunks inserts chunks (type, data) after a PNG's IHDR chunk.
func withChunks(pngData []byte, chunks ...[2]string) []byte {
	ihdrEnd := 8 + 12 + 13
	out := append([]byte{}, pngData[:ihdrEnd]...)
	for _, c := range chunks {
		ch := binary.BigEndian.AppendUint32(nil, uint32(len(c[1])))
		ch = append(ch, c[0]...)
		ch = append(ch, c[1]...)
		ch = binary.BigEndian.AppendUint32(ch, crc32.ChecksumIEEE(ch[4:]))
		out = append(out, ch...)
	}
	return append(out, pngData[ihdrEnd:]...)
}

func TestProcessor_Process_PNGMetadata(t *testing.T) {
	p := New(Config{})
	plain := encodePNG(t, quadrants(60, 40))
	t.Run("OK/StrippedLosslessly", func(t *testing.T) {
		src := withChunks(plain, [2]string{"eXIf", "MM\x00*GPSMARK"}, [2]string{"tEXt", "Comment\x00taken at home"})
		res, err := p.Process(t.Context(), src)
		if err != nil {
			t.Fatal(err)
		}
		if res.Clean == nil || bytes.Contains(res.Clean, []byte("GPSMARK")) || bytes.Contains(res.Clean, []byte("taken at home")) {
			t.Fatalf("cleaned PNG still carries its metadata (%d bytes)", len(res.Clean))
		}
		if !bytes.Equal(res.Clean, plain) {
			t.Fatal("stripping changed more than the metadata chunks")
		}
	})
	t.Run("OK/NoMetadataKeptAsSent", func(t *testing.T) {
		res, err := p.Process(t.Context(), plain)
		if err != nil || res.Clean != nil {
			t.Fatalf("Clean = %d bytes, %v; want nil (store the upload as it is)", len(res.Clean), err)
		}
	})
}

// TestProcessor_Admit: at most MaxJobs images are admitted at once; a
// release frees a place.
func TestProcessor_Admit(t *testing.T) {
	p := New(Config{Workers: 1, MaxJobs: 2})
	r1, err1 := p.Admit()
	_, err2 := p.Admit()
	if err1 != nil || err2 != nil {
		t.Fatalf("Admit within MaxJobs: %v, %v", err1, err2)
	}
	if _, err := p.Admit(); !errors.Is(err, ErrBusy) {
		t.Fatalf("Admit over MaxJobs: %v, want ErrBusy", err)
	}
	r1()
	if _, err := p.Admit(); err != nil {
		t.Fatalf("Admit after a release: %v", err)
	}
}

func TestNew_WorkersDefaultToAQuarterOfTheCPUs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tt := range []struct{ procs, want int }{{1, 1}, {2, 1}, {4, 1}, {8, 2}, {16, 4}} {
		runtime.GOMAXPROCS(tt.procs)
		if got := New(Config{}).cfg.Workers; got != tt.want || DefaultWorkers() != tt.want {
			t.Errorf("GOMAXPROCS %d: %d workers (DefaultWorkers %d), want %d", tt.procs, got, DefaultWorkers(), tt.want)
		}
		if got := New(Config{Workers: 3}).cfg.Workers; got != 3 {
			t.Errorf("GOMAXPROCS %d: Workers 3 gives %d", tt.procs, got)
		}
	}
}

func TestProcessor_PanicInWorkReachesTheCaller(t *testing.T) {
	defer func() {
		if r := recover(); r != "boom" {
			t.Fatalf("recovered %v, want boom", r)
		}
	}()
	New(Config{Nice: 15}).background(func() { panic("boom") })
	t.Fatal("background returned after a panic")
}
