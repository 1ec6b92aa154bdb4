package image

import (
	"bytes"
	stdimage "image"
	"image/png"
	"math/rand/v2"
	"testing"
)

// noisePNG is like the image of `confab bench --upload-rate`: side × side
// opaque pixels of seeded noise, an incompressible PNG (1 MiB at 592).
func noisePNG(tb testing.TB, side int) []byte {
	img := stdimage.NewNRGBA(stdimage.Rect(0, 0, side, side))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.Uint32())
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// BenchmarkProcess_NoisePNG1MiB is the CPU one upload of `confab bench
// --upload-rate` costs the server in image work (at the benchmark's own
// priority: a lowered one would time the host's other work too).
func BenchmarkProcess_NoisePNG1MiB(b *testing.B) {
	data := noisePNG(b, 592)
	p := New(Config{Nice: -1})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Process(b.Context(), data); err != nil {
			b.Fatal(err)
		}
	}
}
