package csvsafe

import (
	"bytes"
	"encoding/csv"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"Mario Rossi":              "Mario Rossi",
		"=1+1":                     "'=1+1",
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"@SUM(A1)":                 "'@SUM(A1)",
		"+cmd|' /C calc'!A0":       "'+cmd|' /C calc'!A0",
		"-2+3+cmd|' /C calc'!A0":   "'-2+3+cmd|' /C calc'!A0",
		"+A1":                      "'+A1",
		"-":                        "'-",
		"+":                        "'+",
		"\t=1":                     "'\t=1",
		"\r=1":                     "'\r=1",
		"\n=1":                     "'\n=1",
		"+390112121212":            "+390112121212",
		"+1 (555) 010-0100":        "+1 (555) 010-0100",
		"-3.5":                     "-3.5",
		"12=3":                     "12=3",
		"a@b.example":              "a@b.example",
	} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriterNeutralisesEveryCell(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Write([]string{"=1", "ok", "@x", "+39011"})
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	rec, err := csv.NewReader(&b).Read()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"'=1", "ok", "'@x", "+39011"}
	for i := range want {
		if rec[i] != want[i] {
			t.Errorf("cell %d = %q, want %q", i, rec[i], want[i])
		}
	}
}

// TestEveryCSVWriterIsSafe keeps CSV injection fixed for writers added later:
// no Go file of the module but this package may build a csv.Writer itself.
func TestEveryCSVWriterIsSafe(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "csvsafe") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("csv.NewWriter(")) {
			t.Errorf("%s builds a csv.Writer; use csvsafe.NewWriter so that no cell is a formula", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAppendCellMatchesWriter builds lines with AppendCell from tricky and
// random cells and checks them byte for byte against Writer's.
func TestAppendCellMatchesWriter(t *testing.T) {
	cells := []string{"", " ", "a", "\\.", "\\.x", " lead", "\u00a0nbsp", "\u2003em", "trail ", "a,b", `say "hi"`, `"`, `""`,
		"line\nbreak", "cr\rhere", "\r\n", "=1+1", "=a,b", "=\"q\"", "@x", "+390112121212", "+1 (555) 010-0100", "-3.5", "-",
		"+", "+A1", "\t=1", "\n=1", "\r=1", "caf\u00e9", "\xff\xfe", "\x00", "=HYPERLINK(\"http://x\",\"y\")", "-2+3+cmd|' /C calc'!A0"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab,\"\r\n =+-@\t\\.0123456789()'\xc2\xa0\xe2\x80\x83\xff")
	for range 5000 {
		b := make([]byte, rng.IntN(8))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cells = append(cells, string(b))
	}
	for i := 0; i+3 <= len(cells); i++ {
		rec := cells[i : i+3]
		var want bytes.Buffer
		w := NewWriter(&want)
		w.Write(rec)
		w.Flush()
		var got []byte
		for j, c := range rec {
			if j > 0 {
				got = append(got, ',')
			}
			got = AppendCell(got, c)
		}
		got = append(got, '\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("record %q: AppendCell wrote %q, Writer %q", rec, got, want.Bytes())
		}
	}
}
