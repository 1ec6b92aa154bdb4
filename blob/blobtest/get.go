package blobtest

import (
	"bytes"
	"mime"
	"time"

	"github.com/confab-chat/confab"
)

var getTests = []test{
	{"PresignGet/ServesBytesTypeAndName", func(f *fixture) {
		key, body := f.key("photo"), payload(200<<10)
		f.upload(key, "application/octet-stream", body)
		req, err := f.s.PresignGet(f.ctx, key, confab.GetParams{ContentType: "image/png", FileName: "holiday photo.png", Expires: f.soon()})
		if err != nil {
			f.t.Fatal(err)
		}
		status, got, h := f.do(req, nil, nil)
		if status != 200 {
			f.t.Fatalf("GET status = %d (%s), want 200", status, got)
		}
		if !bytes.Equal(got, body) {
			f.t.Fatalf("GET read %d bytes differing from the %d uploaded", len(got), len(body))
		}
		if ct := h.Get("Content-Type"); ct != "image/png" {
			f.t.Errorf("Content-Type = %q, want image/png", ct)
		}
		_, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
		if err != nil || params["filename"] != "holiday photo.png" {
			f.t.Errorf("Content-Disposition = %q, want filename \"holiday photo.png\"", h.Get("Content-Disposition"))
		}
	}},
	{"PresignGet/ExpiredRefused", func(f *fixture) {
		key := f.key("old")
		f.upload(key, "text/plain", []byte("secret content"))
		req, err := f.s.PresignGet(f.ctx, key, confab.GetParams{ContentType: "text/plain", FileName: "a.txt", Expires: time.Now().Add(-10 * time.Minute)})
		if err != nil {
			f.t.Fatal(err)
		}
		status, got, h := f.do(req, nil, nil)
		f.refused(status, got, h)
		if bytes.Contains(got, []byte("secret content")) {
			f.t.Fatal("an expired link served the file")
		}
	}},
	{"PresignGet/OtherKeyRefused", func(f *fixture) {
		key, other := f.key("public"), f.key("private")
		f.upload(key, "text/plain", []byte("public content"))
		f.upload(other, "text/plain", []byte("private content"))
		req, err := f.s.PresignGet(f.ctx, key, confab.GetParams{ContentType: "text/plain", FileName: "a.txt", Expires: f.soon()})
		if err != nil {
			f.t.Fatal(err)
		}
		req.URL = otherKeyURL(f.t, req.URL, key, other)
		status, got, h := f.do(req, nil, nil)
		f.refused(status, got, h)
		if bytes.Contains(got, []byte("private content")) {
			f.t.Fatal("a link for one key served another")
		}
	}},
	{"PresignGet/MissingObjectNotServed", func(f *fixture) {
		req, err := f.s.PresignGet(f.ctx, f.key("none"), confab.GetParams{ContentType: "text/plain", FileName: "a.txt", Expires: f.soon()})
		if err != nil {
			f.t.Fatal(err)
		}
		f.refused(f.do(req, nil, nil))
	}},
}
