// Package blobdir keeps attachment bytes in a local directory: the default
// switchboard.BlobStore, for single-node installs and tests.
//
// A key is a slash-separated relative path (the conversation service uses
// tenant/yyyy/mm/uuid); each segment must be a plain name, so a key can
// never reach outside the directory. Put writes to a temporary file in the
// key's directory and renames it into place once the bytes are complete and
// synced, so a reader never sees half a file and a crash leaves at most a
// stray temporary file (named .tmp-*), never a wrong blob. Bytes beyond the
// limit are refused with an error wrapping switchboard.ErrTooLarge, and
// nothing is kept.
package blobdir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"switchboard"
)

// Dir is a BlobStore over one directory.
type Dir struct {
	root string
}

var _ switchboard.BlobStore = (*Dir)(nil)

// New returns the store over dir, creating it when missing.
func New(dir string) (*Dir, error) {
	if dir == "" {
		return nil, errors.New("blobdir: the directory is required")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blobdir: %w", err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("blobdir: create %s: %w", abs, err)
	}
	return &Dir{root: abs}, nil
}

// path maps key to its file, refusing keys that are not plain relative
// paths: empty segments, dot segments, backslashes and absolute paths.
func (d *Dir) path(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") {
		return "", fmt.Errorf("blobdir: invalid key %q", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, ".tmp-") {
			return "", fmt.Errorf("blobdir: invalid key %q", key)
		}
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// Put implements switchboard.BlobStore: at most limit bytes of r are
// stored under key (limit <= 0: no limit).
func (d *Dir) Put(ctx context.Context, key string, r io.Reader, limit int64) (int64, string, error) {
	p, err := d.path(key)
	if err != nil {
		return 0, "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return 0, "", fmt.Errorf("blobdir: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return 0, "", fmt.Errorf("blobdir: %w", err)
	}
	kept := false
	defer func() {
		if !kept {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	src := r
	if limit > 0 {
		src = io.LimitReader(r, limit+1) // one byte more tells an over-limit body
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, src})
	if err != nil {
		return 0, "", fmt.Errorf("blobdir: write %s: %w", key, err)
	}
	if limit > 0 && n > limit {
		return 0, "", fmt.Errorf("blobdir: %s: more than %d bytes: %w", key, limit, switchboard.ErrTooLarge)
	}
	if err := tmp.Sync(); err != nil {
		return 0, "", fmt.Errorf("blobdir: sync %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return 0, "", fmt.Errorf("blobdir: close %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return 0, "", fmt.Errorf("blobdir: %w", err)
	}
	kept = true
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Open implements switchboard.BlobStore; a missing key is CodeNotFound.
func (d *Dir) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, switchboard.Errorf(switchboard.CodeNotFound, "the attachment's bytes are missing")
	}
	if err != nil {
		return nil, fmt.Errorf("blobdir: %w", err)
	}
	return f, nil
}

// Delete implements switchboard.BlobStore; deleting a missing key is not
// an error, so a retried delete succeeds.
func (d *Dir) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blobdir: %w", err)
	}
	return nil
}

// ctxReader stops a long copy when its context ends (a client that went
// away mid-upload).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
