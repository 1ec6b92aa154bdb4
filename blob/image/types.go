// Package image checks uploaded files and prepares images: it sniffs the
// real type of a file's first bytes against the type the client declared
// and its file name's extension, decodes an image's header within bounded
// dimensions before any pixel (no decompression bombs), re-encodes it
// without its metadata (EXIF, with its GPS location) and makes two
// thumbnails, never upscaled, in a bounded pool of workers.
//
// It never reads or writes a blob store and holds no rules about who may
// upload: chat calls it with bytes it read, and stores what it returns.
package image

import (
	"bytes"
	"net/http"
	"path"
	"strings"
)

// SniffBytes is how many leading bytes Sniff reads.
const SniffBytes = 512

// Types of the default allow-list, by the canonical type Sniff returns for
// them: several declared types share one signature (every OOXML and
// OpenDocument file is a ZIP archive).
const (
	sniffPNG  = "image/png"
	sniffJPEG = "image/jpeg"
	sniffGIF  = "image/gif"
	sniffPDF  = "application/pdf"
	sniffText = "text/plain"
	sniffZIP  = "application/zip"
	sniffGzip = "application/gzip"
	sniff7z   = "application/x-7z-compressed"
	sniffOLE  = "application/x-ole-storage" // legacy Office (.doc, .xls, .ppt)
)

// allowed maps each type a client may declare to the canonical type its
// bytes must sniff as, and the file name extensions it goes with.
var allowed = map[string]struct {
	sniff string
	exts  []string
}{
	"image/png":                     {sniffPNG, []string{".png"}},
	"image/jpeg":                    {sniffJPEG, []string{".jpg", ".jpeg"}},
	"image/gif":                     {sniffGIF, []string{".gif"}},
	"application/pdf":               {sniffPDF, []string{".pdf"}},
	"text/plain":                    {sniffText, []string{".txt", ".log"}},
	"text/markdown":                 {sniffText, []string{".md", ".markdown"}},
	"text/csv":                      {sniffText, []string{".csv"}},
	"application/zip":               {sniffZIP, []string{".zip"}},
	"application/gzip":              {sniffGzip, []string{".gz", ".tgz"}},
	"application/x-7z-compressed":   {sniff7z, []string{".7z"}},
	"application/msword":            {sniffOLE, []string{".doc"}},
	"application/vnd.ms-excel":      {sniffOLE, []string{".xls"}},
	"application/vnd.ms-powerpoint": {sniffOLE, []string{".ppt"}},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   {sniffZIP, []string{".docx"}},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         {sniffZIP, []string{".xlsx"}},
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": {sniffZIP, []string{".pptx"}},
	"application/vnd.oasis.opendocument.text":                                   {sniffZIP, []string{".odt"}},
	"application/vnd.oasis.opendocument.spreadsheet":                            {sniffZIP, []string{".ods"}},
	"application/vnd.oasis.opendocument.presentation":                           {sniffZIP, []string{".odp"}},
}

// DefaultAllowedTypes returns the types a client may declare by default:
// images (PNG, JPEG, GIF), PDF, plain text, Markdown and CSV, ZIP, gzip
// and 7z archives, and Office and OpenDocument files. (WebP and SVG are
// left out: WebP keeps EXIF that this package cannot strip without a
// WebP encoder, and SVG is a document that runs scripts.)
func DefaultAllowedTypes() []string {
	out := make([]string, 0, len(allowed))
	for t := range allowed {
		out = append(out, t)
	}
	return out
}

// Known reports whether t is a type this package can check (every type
// of DefaultAllowedTypes); an allow-list may name only those.
func Known(t string) bool {
	_, ok := allowed[t]
	return ok
}

// IsImage reports whether t is an image type Process handles.
func IsImage(t string) bool {
	return t == sniffPNG || t == sniffJPEG || t == sniffGIF
}

// ExtensionMatches reports whether fileName's extension fits the declared
// type t: a known extension of another type (report.pdf declared
// image/png) does not; a name without an extension, or with one no type
// claims, does.
func ExtensionMatches(fileName, t string) bool {
	ext := strings.ToLower(path.Ext(fileName))
	if ext == "" {
		return true
	}
	claimed := false
	for typ, a := range allowed {
		for _, e := range a.exts {
			if e == ext {
				if typ == t {
					return true
				}
				claimed = true
			}
		}
	}
	return !claimed
}

// Matches reports whether head, a file's first SniffBytes bytes (fewer
// for a shorter file), is of the declared type t.
func Matches(t string, head []byte) bool {
	a, ok := allowed[t]
	return ok && Sniff(head) == a.sniff
}

// Sniff returns the canonical type of the file whose first bytes are
// head, or "" when it is none this package knows. It follows the WHATWG
// MIME Sniffing algorithm (net/http.DetectContentType), adding 7z and
// legacy Office signatures, which that algorithm does not name.
func Sniff(head []byte) string {
	if len(head) > SniffBytes {
		head = head[:SniffBytes]
	}
	switch {
	case bytes.HasPrefix(head, []byte("7z\xbc\xaf\x27\x1c")):
		return sniff7z
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
		return sniffOLE
	}
	t := http.DetectContentType(head)
	switch {
	case t == "image/png", t == "image/jpeg", t == "image/gif", t == "application/pdf", t == "application/zip":
		return t
	case t == "application/x-gzip":
		return sniffGzip
	case t == "text/plain; charset=utf-8" || t == "text/plain; charset=utf-16be" || t == "text/plain; charset=utf-16le":
		return sniffText
	}
	return ""
}
