package image

import (
	"bytes"
	"encoding/binary"
	stdimage "image"
	"image/draw"
)

// exifOrientation returns the EXIF orientation (1 to 8) of a JPEG, or 1
// when it has none. Phones store photos as the sensor saw them and say
// in this tag how to turn them; the re-encode drops the tag, so the
// pixels are turned instead (orient).
func exifOrientation(jpg []byte) int {
	p := jpg
	if !bytes.HasPrefix(p, []byte{0xff, 0xd8}) {
		return 1
	}
	p = p[2:]
	for len(p) >= 4 && p[0] == 0xff {
		marker, n := p[1], int(binary.BigEndian.Uint16(p[2:4]))
		if n < 2 || len(p) < 2+n {
			return 1
		}
		seg := p[4 : 2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		if marker == 0xda { // start of scan: no metadata after it
			return 1
		}
		p = p[2+n:]
	}
	return 1
}

// tiffOrientation reads tag 0x0112 of IFD0 of a TIFF header.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int(bo.Uint32(t[4:8]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	count := int(bo.Uint16(t[off:]))
	for i := range count {
		e := off + 2 + 12*i
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 { // SHORT
			if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 1
		}
	}
	return 1
}

// orient returns img turned and flipped as EXIF orientation o says.
func orient(img stdimage.Image, o int) stdimage.Image {
	if o <= 1 || o > 8 {
		return img
	}
	b := img.Bounds()
	src := stdimage.NewRGBA(stdimage.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 { // the transposing ones swap the sides
		dw, dh = h, w
	}
	dst := stdimage.NewRGBA(stdimage.Rect(0, 0, dw, dh))
	for y := range h {
		for x := range w {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			copy(dst.Pix[dy*dst.Stride+4*dx:][:4], src.Pix[y*src.Stride+4*x:][:4])
		}
	}
	return dst
}
