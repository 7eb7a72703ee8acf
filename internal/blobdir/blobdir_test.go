package blobdir

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard"
)

func TestPutOpenDelete(t *testing.T) {
	ctx := context.Background()
	d, err := New(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("hello, attachment")
	size, sum, err := d.Put(ctx, "7/2026/12/abc", bytes.NewReader(body), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(body)
	if size != int64(len(body)) || sum != hex.EncodeToString(want[:]) {
		t.Fatalf("Put = %d %s, want %d %x", size, sum, len(body), want)
	}
	rc, err := d.Open(ctx, "7/2026/12/abc")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("Open read %q, want %q", got, body)
	}
	if err := d.Delete(ctx, "7/2026/12/abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(ctx, "7/2026/12/abc"); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
		t.Fatalf("Open after Delete: %v, want not found", err)
	}
	if err := d.Delete(ctx, "7/2026/12/abc"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
}

func TestPutLimit(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	// Exactly the limit is accepted.
	if n, _, err := d.Put(ctx, "1/a", strings.NewReader("12345"), 5); err != nil || n != 5 {
		t.Fatalf("Put at the limit = %d, %v", n, err)
	}
	_, _, err = d.Put(ctx, "1/b", strings.NewReader("123456"), 5)
	if !errors.Is(err, switchboard.ErrTooLarge) {
		t.Fatalf("Put over the limit: %v, want ErrTooLarge", err)
	}
	// Nothing is left behind: neither the blob nor a temporary file.
	entries, _ := os.ReadDir(filepath.Join(root, "1"))
	for _, e := range entries {
		if e.Name() != "a" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestPutReplacesAtomically(t *testing.T) {
	ctx := context.Background()
	d, _ := New(t.TempDir())
	if _, _, err := d.Put(ctx, "k", strings.NewReader("old"), 0); err != nil {
		t.Fatal(err)
	}
	// A failed write (over the limit) keeps the old bytes.
	if _, _, err := d.Put(ctx, "k", strings.NewReader("much too long"), 3); !errors.Is(err, switchboard.ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
	rc, err := d.Open(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "old" {
		t.Fatalf("read %q after a refused write, want old", b)
	}
}

func TestKeysStayInside(t *testing.T) {
	ctx := context.Background()
	d, _ := New(t.TempDir())
	for _, k := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", `a\b`, "a/.tmp-1"} {
		if _, _, err := d.Put(ctx, k, strings.NewReader("x"), 0); err == nil {
			t.Errorf("Put(%q) accepted", k)
		}
		if _, err := d.Open(ctx, k); err == nil {
			t.Errorf("Open(%q) accepted", k)
		}
	}
}

func TestPutStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, _ := New(t.TempDir())
	if _, _, err := d.Put(ctx, "k", strings.NewReader("x"), 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context: %v", err)
	}
}
