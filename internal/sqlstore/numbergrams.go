package sqlstore

import (
	"database/sql/driver"
	"fmt"
	"strings"

	"modernc.org/sqlite"
)

// SQLite finds calls by a part of a number through calls_numbers, a
// contentless FTS5 index whose document for a call is the "grams" of its two
// numbers: for every run of ASCII digits, the window of up to gramLen digits
// that starts at each digit. A run of digits D of a search then has an
// indexed token for each of its occurrences: when D is at most gramLen long,
// the token that starts where D starts begins with D (an FTS5 prefix query);
// when longer, every gramLen-digit window of D is a token of the call (an AND
// of exact tokens). Five-digit tokens are rare (a customer's number shares
// one with a few hundredths of a percent of the others), so a search for
// five digits or more reads a few hundred index entries whatever the size of
// the table, where trigrams (a thousand possible values, each in 2 % of the
// numbers) read a share of the table. The index finds a superset of the
// calls (it knows the longest run of digits of the search, not the rest);
// LIKE decides.

// gramLen is the length of the digit windows calls_numbers indexes.
const gramLen = 5

// minIndexedDigits is the shortest run of digits a search must hold for the
// index to answer it; shorter ones match too many calls to be worth it.
const minIndexedDigits = 3

func init() {
	// The triggers of calls call it, so every connection must have it:
	// registering with the driver gives it to every connection it opens.
	sqlite.MustRegisterDeterministicScalarFunction("switchboard_number_grams", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			s, ok := args[0].(string)
			if !ok {
				return "", nil // a NULL or a blob holds no digits
			}
			return numberGrams(s), nil
		})
}

// numberGrams returns the digit windows of s, separated by spaces.
func numberGrams(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		for p := i; p < j; p++ {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s[p:min(p+gramLen, j)])
		}
		i = j
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// longestDigits returns the longest run of ASCII digits of s (the first of
// equals).
func longestDigits(s string) string {
	best := ""
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j-i > len(best) {
			best = s[i:j]
		}
		i = max(j, i+1)
	}
	return best
}

// gramQuery is the FTS5 query that finds the calls whose numbers hold the
// digits d (see the comment at the top of the file).
func gramQuery(d string) string {
	if len(d) <= gramLen {
		return d + "*"
	}
	parts := make([]string, 0, len(d)-gramLen+1)
	for p := 0; p+gramLen <= len(d); p++ {
		parts = append(parts, d[p:p+gramLen])
	}
	return strings.Join(parts, " AND ")
}

// numberGramsSQL is the expression of a call's calls_numbers document.
func numberGramsSQL(row string) string {
	return fmt.Sprintf("switchboard_number_grams(%[1]s.from_number) || ' ' || switchboard_number_grams(%[1]s.to_number)", row)
}
