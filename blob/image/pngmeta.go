package image

import (
	"bytes"
	"encoding/binary"
)

// pngMetadataChunks are the PNG chunks that carry metadata (EXIF with its
// GPS location, text, the modification time) rather than pixels or colour.
var pngMetadataChunks = map[string]bool{"eXIf": true, "tEXt": true, "zTXt": true, "iTXt": true, "tIME": true}

// stripPNG returns png without its metadata chunks, or nil when it has
// none (store it as it is). Dropping chunks is lossless and costs a copy,
// where a re-encode costs the whole compression again (several times the
// decode). It returns nil too for a file whose chunk structure it cannot
// walk; the decode that follows refuses such a file anyway.
func stripPNG(png []byte) []byte {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(png, []byte(sig)) {
		return nil
	}
	out := append(make([]byte, 0, len(png)), sig...)
	dropped := false
	for p := png[len(sig):]; len(p) > 0; {
		if len(p) < 12 {
			return nil
		}
		n := int(binary.BigEndian.Uint32(p))
		if n < 0 || n > len(p)-12 {
			return nil
		}
		chunk := p[:12+n]
		if pngMetadataChunks[string(chunk[4:8])] {
			dropped = true
		} else {
			out = append(out, chunk...)
		}
		p = p[12+n:]
	}
	if !dropped {
		return nil
	}
	return out
}
