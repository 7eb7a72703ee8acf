package sqlstore

import "testing"

func TestNumberGrams(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"+12015550123", "12015 20155 01555 15550 55501 55012 50123 0123 123 23 3"},
		{"8001", "8001 001 01 1"},
		{"ext 12-345", "12 2 345 45 5"},
		{"Anonymous", ""},
		{"", ""},
	} {
		if got := numberGrams(c.in); got != c.want {
			t.Errorf("numberGrams(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ in, digits, query string }{
		{"+1201", "1201", "1201*"},
		{"55", "55", "55*"},
		{"20155501", "20155501", "20155 AND 01555 AND 15550 AND 55501"},
		{"12%345_6789", "6789", "6789*"},
		{"ab", "", "*"},
	} {
		d := longestDigits(c.in)
		if d != c.digits {
			t.Errorf("longestDigits(%q) = %q, want %q", c.in, d, c.digits)
		}
		if q := gramQuery(d); q != c.query {
			t.Errorf("gramQuery(%q) = %q, want %q", d, q, c.query)
		}
	}
}
