package blobtest

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/confab-chat/confab"
)

var putTests = []test{
	{"PresignPut/StoresExactBytes", func(f *fixture) {
		key, body := f.key("a.bin"), payload(300<<10)
		f.upload(key, "application/octet-stream", body)
		f.wantContent(key, body)
	}},
	{"PresignPut/SecondPutReplaces", func(f *fixture) {
		key := f.key("a.txt")
		f.upload(key, "text/plain", []byte("first"))
		f.upload(key, "text/plain", []byte("second!"))
		f.wantContent(key, []byte("second!"))
	}},
	{"PresignPut/ExpiredRefused", func(f *fixture) {
		key, body := f.key("late.bin"), payload(100)
		req, err := f.s.PresignPut(f.ctx, key, confab.PutParams{ContentType: "text/plain", Size: 100, Expires: time.Now().Add(-10 * time.Minute)})
		if err != nil {
			f.t.Fatal(err)
		}
		f.refused(f.do(req, body, nil))
		f.wantAbsent(key)
	}},
	{"PresignPut/OtherKeyRefused", func(f *fixture) {
		key, other, body := f.key("mine.bin"), f.key("theirs.bin"), payload(100)
		req, err := f.s.PresignPut(f.ctx, key, confab.PutParams{ContentType: "text/plain", Size: 100, Expires: f.soon()})
		if err != nil {
			f.t.Fatal(err)
		}
		req.URL = otherKeyURL(f.t, req.URL, key, other)
		f.refused(f.do(req, body, nil))
		f.wantAbsent(key)
		f.wantAbsent(other)
	}},
	{"PresignPut/OtherContentTypeRefused", func(f *fixture) {
		key, body := f.key("x.png"), payload(100)
		req, err := f.s.PresignPut(f.ctx, key, confab.PutParams{ContentType: "image/png", Size: 100, Expires: f.soon()})
		if err != nil {
			f.t.Fatal(err)
		}
		f.refused(f.do(req, body, http.Header{"Content-Type": {"text/html"}}))
		f.wantAbsent(key)
	}},
	{"PresignPut/OtherSizeRefused", func(f *fixture) {
		key := f.key("big.bin")
		req, err := f.s.PresignPut(f.ctx, key, confab.PutParams{ContentType: "application/octet-stream", Size: 100, Expires: f.soon()})
		if err != nil {
			f.t.Fatal(err)
		}
		f.refused(f.do(req, payload(5000), nil))
		f.wantAbsent(key)
	}},
	{"PresignPut/InvalidKeyRefused", func(f *fixture) {
		for _, key := range []string{"", "../escape", "a//b", "a/./b", "/abs", "spa ce", "uni\u00e9"} {
			_, err := f.s.PresignPut(f.ctx, key, confab.PutParams{ContentType: "text/plain", Size: 1, Expires: f.soon()})
			f.wantCode(err, confab.CodeInvalid)
		}
	}},
	{"Put/StoresExactBytes", func(f *fixture) {
		key, body := f.key("thumb.jpg"), payload(64<<10)
		if err := f.s.Put(f.ctx, key, bytes.NewReader(body), int64(len(body)), "image/jpeg"); err != nil {
			f.t.Fatal(err)
		}
		f.wantContent(key, body)
	}},
	{"Put/ShortBodyStoresNothing", func(f *fixture) {
		key := f.key("short.bin")
		err := f.s.Put(f.ctx, key, bytes.NewReader(payload(10)), 20, "application/octet-stream")
		f.wantCode(err, confab.CodeInvalid)
		f.wantAbsent(key)
	}},
	{"Put/LongBodyStoresNothing", func(f *fixture) {
		key := f.key("long.bin")
		err := f.s.Put(f.ctx, key, bytes.NewReader(payload(30)), 20, "application/octet-stream")
		f.wantCode(err, confab.CodeInvalid)
		f.wantAbsent(key)
	}},
	{"Put/ConcurrentReadersSeeWholeObjects", func(f *fixture) {
		key := f.key("race.bin")
		a, b := bytes.Repeat([]byte("a"), 200<<10), bytes.Repeat([]byte("b"), 200<<10)
		if err := f.s.Put(f.ctx, key, bytes.NewReader(a), int64(len(a)), "text/plain"); err != nil {
			f.t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					body := [][]byte{a, b}[i/2%2]
					errs <- f.s.Put(f.ctx, key, bytes.NewReader(body), int64(len(body)), "text/plain")
					return
				}
				rc, err := f.s.Open(f.ctx, key)
				if err != nil {
					errs <- err
					return
				}
				defer rc.Close()
				var buf bytes.Buffer
				if _, err := buf.ReadFrom(rc); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(buf.Bytes(), a) && !bytes.Equal(buf.Bytes(), b) {
					errs <- fmt.Errorf("read a mixed object of %d bytes", buf.Len())
					return
				}
				errs <- nil
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				f.t.Error(err)
			}
		}
	}},
	{"Stat/NotFound", func(f *fixture) {
		f.wantAbsent(f.key("never"))
	}},
	{"Open/NotFound", func(f *fixture) {
		_, err := f.s.Open(f.ctx, f.key("never"))
		f.wantCode(err, confab.CodeNotFound)
	}},
	{"Delete/RemovesAndRepeats", func(f *fixture) {
		key := f.key("gone.txt")
		f.upload(key, "text/plain", []byte("bye"))
		for range 2 {
			if err := f.s.Delete(f.ctx, key); err != nil {
				f.t.Fatal(err)
			}
			f.wantAbsent(key)
		}
	}},
	{"Delete/LeavesNeighbours", func(f *fixture) {
		key := f.key("one")
		neighbour := key + "-two"
		f.upload(key, "text/plain", []byte("1"))
		f.upload(neighbour, "text/plain", []byte("2"))
		if err := f.s.Delete(f.ctx, key); err != nil {
			f.t.Fatal(err)
		}
		f.wantContent(neighbour, []byte("2"))
	}},
}
