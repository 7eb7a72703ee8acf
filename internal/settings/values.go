package settings

import (
	"flag"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// The values below bind a setting to a variable of the program's config,
// which holds its default until a surface sets it.

// String binds a string.
func String(p *string) flag.Value { return (*stringValue)(p) }

// Bool binds a boolean; as a flag it needs no value (--demo).
func Bool(p *bool) flag.Value { return (*boolValue)(p) }

// Int binds an int.
func Int(p *int) flag.Value { return (*intValue)(p) }

// Int64 binds an int64.
func Int64(p *int64) flag.Value { return (*int64Value)(p) }

// Float binds a float64.
func Float(p *float64) flag.Value { return (*floatValue)(p) }

// Duration binds a time.Duration written as Go writes them (5s, 2h).
func Duration(p *time.Duration) flag.Value { return (*durationValue)(p) }

// Prefixes binds a list of CIDR prefixes. Each value adds to the list, so the
// flag repeats, and may itself be a comma-separated list, which is how the
// environment variable carries several.
func Prefixes(p *[]netip.Prefix) flag.Value { return (*prefixList)(p) }

// Durations binds a comma-separated list of durations; setting it replaces
// the whole list.
func Durations(p *[]time.Duration) flag.Value { return (*durationList)(p) }

type (
	stringValue   string
	boolValue     bool
	intValue      int
	int64Value    int64
	floatValue    float64
	durationValue time.Duration
	prefixList    []netip.Prefix
	durationList  []time.Duration
)

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) String() string     { return string(*v) }

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	*v = boolValue(b)
	return err
}
func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	*v = intValue(n)
	return err
}
func (v *intValue) String() string { return strconv.Itoa(int(*v)) }

func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	*v = int64Value(n)
	return err
}
func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }

func (v *floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	*v = floatValue(f)
	return err
}
func (v *floatValue) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	*v = durationValue(d)
	return err
}
func (v *durationValue) String() string { return time.Duration(*v).String() }

func (v *prefixList) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return fmt.Errorf("%q is not a CIDR prefix such as 127.0.0.0/8", part)
		}
		*v = append(*v, p.Masked())
	}
	return nil
}

func (v *prefixList) String() string {
	parts := make([]string, len(*v))
	for i, p := range *v {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func (v *durationList) Set(s string) error {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration such as 5s or 2h", part)
		}
		out = append(out, d)
	}
	*v = out
	return nil
}

func (v *durationList) String() string {
	parts := make([]string, len(*v))
	for i, d := range *v {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}
