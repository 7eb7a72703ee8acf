// Package csvsafe writes CSV that spreadsheets open as data, never as
// formulas. Every CSV the server produces (the native CDR export, Voxloud's
// telephony events as text/csv) goes through it, because their cells hold text
// callers and tenants chose: a contact named =HYPERLINK(…) or a caller id of
// +cmd|' /C calc'!A0 would otherwise run in the spreadsheet of whoever opens
// the export (CSV injection).
//
// The rule is OWASP's: a cell that starts with =, +, -, @, a tab or a carriage
// return (or a line feed, which spreadsheets treat alike) gets a single quote
// in front, which spreadsheets show as plain text. One exception keeps
// exports readable: a cell that is only a number, written with an optional
// leading + or - and then digits, spaces, dots, parentheses and hyphens (an
// E.164 number such as +390112121212, "+1 (555) 010-0100", or -3.5), stays as
// it is. Such a cell cannot call a function or reach another program, since
// that needs letters or other symbols, so the spreadsheet at most reads it as
// a number.
package csvsafe

import (
	"encoding/csv"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Writer is a csv.Writer that neutralises every cell it writes.
type Writer struct {
	w *csv.Writer
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record, each cell passed through Cell.
func (w *Writer) Write(record []string) error {
	safe := make([]string, len(record))
	for i, c := range record {
		safe[i] = Cell(c)
	}
	return w.w.Write(safe)
}

// Flush writes any buffered data to the underlying writer.
func (w *Writer) Flush() { w.w.Flush() }

// Error reports any error of a previous Write or Flush.
func (w *Writer) Error() error { return w.w.Error() }

// AppendCell appends s to dst as one field of a CSV line: neutralised as
// Cell neutralises it and quoted exactly as Writer quotes it. Exports that
// write millions of rows build each line in one reused buffer with it
// instead of allocating a []string per row; a line built from AppendCell,
// commas and a final '\n' is byte for byte what Writer writes. Integers need
// no neutralising (a sign and digits are a plain number) and may be appended
// with strconv.AppendInt.
func AppendCell(dst []byte, s string) []byte {
	if s == "" {
		return dst
	}
	prefix := needsPrefix(s)
	// encoding/csv quotes a field holding the separator, a quote or a line
	// break, the field \. (a PostgreSQL end-of-data marker), and one that
	// starts with a space; a prefixed field starts with the quote mark.
	quote := !prefix && s == `\.`
	for i := 0; i < len(s) && !quote; i++ {
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n'
	}
	if !quote && !prefix {
		r, _ := utf8.DecodeRuneInString(s)
		quote = unicode.IsSpace(r)
	}
	if !quote {
		if prefix {
			dst = append(dst, '\'')
		}
		return append(dst, s...)
	}
	dst = append(dst, '"')
	if prefix {
		dst = append(dst, '\'')
	}
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, '"')
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, '"')
}

// needsPrefix reports whether Cell puts a quote mark in front of s.
func needsPrefix(s string) bool {
	switch s[0] {
	case '=', '@', '\t', '\r', '\n':
		return true
	case '+', '-':
		return !numeric(s[1:])
	}
	return false
}

// Cell returns s as a cell no spreadsheet evaluates: s itself, unless it
// starts with a formula trigger and is not a plain number (see the package
// documentation), in which case it gets a leading single quote.
func Cell(s string) string {
	if s == "" || !needsPrefix(s) {
		return s
	}
	return "'" + s
}

// numeric reports whether s (what follows a sign) is a number as people
// write them: a digit first, then only digits, spaces, dots, parentheses and
// hyphens.
func numeric(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == ' ', c == '.', c == '(', c == ')', c == '-':
		default:
			return false
		}
	}
	return true
}
