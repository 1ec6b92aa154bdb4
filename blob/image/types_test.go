package image

import (
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		head string
		want string
	}{
		{"PNG", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"},
		{"JPEG", "\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"},
		{"GIF", "GIF89a\x01\x00", "image/gif"},
		{"PDF", "%PDF-1.7\n", "application/pdf"},
		{"Text", "hello, world\n", "text/plain"},
		{"ZIP", "PK\x03\x04\x14\x00", "application/zip"},
		{"Gzip", "\x1f\x8b\x08\x00", "application/gzip"},
		{"7z", "7z\xbc\xaf\x27\x1c\x00\x04", "application/x-7z-compressed"},
		{"OLE", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "application/x-ole-storage"},
		{"HTML", "<!DOCTYPE html><script>", ""},
		{"Binary", "\x00\x01\x02\x03\xfe", ""},
		{"Empty", "", "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff([]byte(tt.head)); got != tt.want {
				t.Errorf("Sniff = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	pdf := []byte("%PDF-1.7\n")
	tests := []struct {
		name, typ string
		head      []byte
		want      bool
	}{
		{"PDF", "application/pdf", pdf, true},
		{"PDFDeclaredPNG", "image/png", pdf, false},
		{"DOCXIsZIP", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", []byte("PK\x03\x04"), true},
		{"HTMLDeclaredText", "text/plain", []byte("<html><script>alert(1)</script>"), false},
		{"UnknownType", "image/svg+xml", []byte("<svg"), false},
		{"LongText", "text/csv", []byte(strings.Repeat("a,b\n", 1000)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Matches(tt.typ, tt.head); got != tt.want {
				t.Errorf("Matches(%q) = %v, want %v", tt.typ, got, tt.want)
			}
		})
	}
}

func TestExtensionMatches(t *testing.T) {
	tests := []struct {
		name, typ string
		want      bool
	}{
		{"photo.png", "image/png", true},
		{"photo.JPG", "image/jpeg", true},
		{"report.pdf", "image/png", false},
		{"photo.png", "application/pdf", false},
		{"README", "text/plain", true},
		{"data.unknownext", "application/zip", true},
		{"archive.tar.gz", "application/gzip", true},
	}
	for _, tt := range tests {
		if got := ExtensionMatches(tt.name, tt.typ); got != tt.want {
			t.Errorf("ExtensionMatches(%q, %q) = %v, want %v", tt.name, tt.typ, got, tt.want)
		}
	}
}

func TestDefaultAllowedTypes_AllKnown(t *testing.T) {
	types := DefaultAllowedTypes()
	if len(types) < 10 {
		t.Fatalf("%d default types", len(types))
	}
	for _, typ := range types {
		if !Known(typ) {
			t.Errorf("%s is allowed but not Known", typ)
		}
	}
}
