package switchboard_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepositoryHygiene keeps the repository a source repository: no build
// outputs or databases tracked (four binaries, 121 MB, once were), the
// documents a user looks for present, and no pointer to design documents that
// live outside the repository.
func TestRepositoryHygiene(t *testing.T) {
	out, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v)", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		base := filepath.Base(name)
		for _, bad := range []string{".test", ".db", ".db-wal", ".db-shm", ".prof", ".pprof", ".exe"} {
			if strings.HasSuffix(base, bad) {
				t.Errorf("%s is tracked: build outputs and databases belong in .gitignore", name)
			}
		}
		f, err := os.Open(name)
		if err != nil {
			continue // deleted in the work tree but not yet in the index
		}
		head := make([]byte, 4)
		n, _ := f.Read(head)
		f.Close()
		if n == 4 && (bytes.Equal(head, []byte("\x7fELF")) || bytes.Equal(head[:2], []byte("MZ"))) {
			t.Errorf("%s is a compiled binary and must not be committed", name)
		}
	}

	ignore, err := os.ReadFile(".gitignore")
	if err != nil {
		t.Fatalf(".gitignore: %v", err)
	}
	for _, want := range []string{"/switchboard", "*.test", "*.db"} {
		if !strings.Contains(string(ignore), want) {
			t.Errorf(".gitignore does not ignore %s", want)
		}
	}

	license, err := os.ReadFile("LICENSE")
	if err != nil || !strings.Contains(string(license), "Apache License") || !strings.Contains(string(license), "Version 2.0") {
		t.Errorf("LICENSE must hold the Apache License 2.0 (err %v)", err)
	}
	for _, doc := range []string{"CHANGELOG.md", "docs/ARCHITECTURE.md", "DEPENDENCIES.md", "BENCHMARKS.md"} {
		if fi, err := os.Stat(doc); err != nil || fi.Size() == 0 {
			t.Errorf("%s is missing or empty", doc)
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(readme), "../shared") {
		t.Error("README.md points at a document outside the repository; link docs/ instead")
	}
}
