// Package disk is confab.BlobStore on the local filesystem, the embedded
// default for one node. It passes the contract suite blob/blobtest.
//
// Objects live as files under <dir>/objects/<key>, written to
// <dir>/tmp first and renamed into place after an fsync, so a reader sees a
// whole object or none. There is no object store in front of it, so confab
// serves the presigned URLs itself: Handler answers PUT and GET on
// PathPrefix+key when the URL carries a valid, unexpired HMAC-SHA256
// signature (sign.go). The signing key is <dir>/signing.key, made on the
// first Open; back up <dir> with the data directory.
//
// It never decides who may read or write: chat mints a URL only for a
// caller it allowed.
package disk

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/confab-chat/confab"
)

// PathPrefix is the URL path under which Handler serves objects; the
// server routes it to Handler.
const PathPrefix = "/blobs/"

// keyBytes is the length of the signing key made on first use.
const keyBytes = 32

// Config configures a Store. Zero values mean the defaults beside each
// field.
type Config struct {
	// Dir holds the objects, temporary files and the signing key. Required.
	Dir string
	// BaseURL is put before PathPrefix in the URLs minted, e.g.
	// "https://chat.example.com". Default "": URLs relative to the server
	// that mints them, which serve a browser on the same origin.
	BaseURL string
	// Now is the clock that checks expiry. Default time.Now.
	Now func() time.Time
}

// Store is confab.BlobStore on a directory.
type Store struct {
	objects, tmp string
	baseURL      string
	key          []byte
	now          func() time.Time
}

var _ confab.BlobStore = (*Store)(nil)

// Open prepares cfg.Dir (creating it, and the signing key, if missing).
// It starts no goroutine; Close is not needed.
func Open(cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("disk: no directory")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Store{objects: filepath.Join(cfg.Dir, "objects"), tmp: filepath.Join(cfg.Dir, "tmp"), baseURL: cfg.BaseURL, now: cfg.Now}
	for _, d := range []string{s.objects, s.tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("disk: open: %w", err)
		}
	}
	key, err := loadKey(filepath.Join(cfg.Dir, "signing.key"))
	if err != nil {
		return nil, err
	}
	s.key = key
	return s, nil
}

// loadKey reads the signing key at path, making a random one if there is
// none.
func loadKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil && len(key) >= keyBytes {
		return key, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("disk: read signing key: %w", err)
	}
	key = make([]byte, keyBytes)
	rand.Read(key)
	if err := writeFileSync(path, key); err != nil {
		return nil, fmt.Errorf("disk: write signing key: %w", err)
	}
	return key, nil
}

// writeFileSync writes data to path through a temporary file, synced and
// renamed.
func writeFileSync(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// path returns the file of key, or CodeInvalid for a key that is not
// ValidBlobKey (so no key escapes the directory).
func (s *Store) path(key string) (string, error) {
	if !confab.ValidBlobKey(key) {
		return "", &confab.Error{Code: confab.CodeInvalid, Op: "disk", Err: fmt.Errorf("invalid blob key %q", key)}
	}
	return filepath.Join(s.objects, filepath.FromSlash(key)), nil
}

// Stat implements confab.BlobStore.
func (s *Store) Stat(ctx context.Context, key string) (int64, error) {
	p, err := s.path(key)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0, notFound("stat", err)
	}
	if !fi.Mode().IsRegular() {
		return 0, &confab.Error{Code: confab.CodeNotFound, Op: "disk.Stat"}
	}
	return fi.Size(), nil
}

// Open implements confab.BlobStore.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound("open", err)
	}
	return f, nil
}

// Put implements confab.BlobStore.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	return s.write(p, r, size)
}

// write copies exactly size bytes of r to path through a temporary file:
// more or fewer is CodeInvalid, and then nothing is stored.
func (s *Store) write(path string, r io.Reader, size int64) error {
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return fmt.Errorf("disk: put: %w", err)
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	src := &readErrReader{r: io.LimitReader(r, size+1)}
	n, err := io.Copy(f, src)
	switch {
	case src.err != nil: // the sender's fault: a body cut short
		err = &confab.Error{Code: confab.CodeInvalid, Op: "disk.Put", Err: src.err}
	case err == nil && n != size:
		err = &confab.Error{Code: confab.CodeInvalid, Op: "disk.Put", Err: fmt.Errorf("got %d bytes, want %d", n, size)}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o700)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil && confab.ErrorCode(err) != confab.CodeInvalid {
		return fmt.Errorf("disk: put: %w", err)
	}
	return err
}

// Delete implements confab.BlobStore. It also removes the key's parent
// directory when that leaves it empty.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("disk: delete: %w", err)
	}
	if dir := filepath.Dir(p); dir != s.objects {
		// Fails, as intended, while the directory holds other objects.
		_ = os.Remove(dir)
	}
	return nil
}

// notFound maps a missing file to CodeNotFound and wraps anything else.
func notFound(op string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &confab.Error{Code: confab.CodeNotFound, Op: "disk." + op}
	}
	return fmt.Errorf("disk: %s: %w", op, err)
}

// readErrReader remembers its reader's error, so that write can tell a
// body that failed from a disk that did.
type readErrReader struct {
	r   io.Reader
	err error
}

func (r *readErrReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}
