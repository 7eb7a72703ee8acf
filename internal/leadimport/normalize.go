package leadimport

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"switchboard"
	"switchboard/internal/phone"
)

// Bounds of one lead, so that a list of a hundred thousand stays a size a
// dialer can hold and a ledger can quote.
const (
	MaxNameLength     = 200
	MaxExternalID     = 200
	MaxPhoneNumbers   = 10
	MaxFields         = 50
	MaxFieldKeyLength = 64
	MaxFieldValue     = 1000
	MinPriority       = -1000
	MaxPriority       = 1000
)

// Normalize checks and normalizes one lead as an import or the API's single
// add and update leave it: numbers in E.164 (PhoneNumber first in
// PhoneNumbers, no repeats), never an emergency number, a time zone that
// loads (derived from the first number when empty), bounded text, and a new
// lead's status upcoming. region reads numbers without a leading + as
// national numbers of that ISO 3166 region; empty takes them as international.
// The error is a switchboard.Problems error naming each bad field.
func Normalize(l *switchboard.Lead, region string) error {
	p := switchboard.Problems{}
	normalize(l, region, p, newZones())
	return p.Err()
}

// normalize is Normalize recording into p, with the time zones already
// loaded by this import (time.LoadLocation reads the zone database each
// time).
func normalize(l *switchboard.Lead, region string, p switchboard.Problems, zones *zoneCache) {
	l.Name = strings.TrimSpace(l.Name)
	checkText(p, "name", l.Name, MaxNameLength)
	l.ExternalID = strings.TrimSpace(l.ExternalID)
	checkText(p, "external_id", l.ExternalID, MaxExternalID)

	// Every number once, the first being PhoneNumber.
	type number struct{ field, value string }
	var in []number
	if first := strings.TrimSpace(l.PhoneNumber); first != "" {
		in = append(in, number{"phone_number", first})
	}
	for i, n := range l.PhoneNumbers {
		if n = strings.TrimSpace(n); n != "" {
			in = append(in, number{fmt.Sprintf("phone_numbers[%d]", i), n})
		}
	}
	if len(in) == 0 {
		p.Add("phone_number", "is required")
	}
	out := make([]string, 0, len(in))
	for _, n := range in {
		if !utf8.ValidString(n.value) || len(n.value) > 64 {
			p.Add(n.field, "must be a phone number of at most 64 characters")
			continue
		}
		if IsEmergency(n.value, region) {
			p.Add(n.field, "is an emergency number")
			continue
		}
		e164, ok := canonical(n.value)
		var err error
		if !ok {
			e164, err = phone.Normalize(n.value, region)
		}
		if err != nil {
			p.Add(n.field, "is not a valid phone number (give it in E.164, +country code and number)")
			continue
		}
		// What the dialer refuses to dial (phone.IsEmergency: a number that
		// dials into an emergency service) is refused here already.
		if dialsEmergency(e164) {
			p.Add(n.field, "is an emergency number")
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == e164
		}
		if !dup {
			out = append(out, e164)
		}
	}
	if len(out) > MaxPhoneNumbers {
		p.Add("phone_numbers", fmt.Sprintf("must hold at most %d numbers", MaxPhoneNumbers))
	}
	if len(out) > 0 {
		l.PhoneNumber, l.PhoneNumbers = out[0], out
	} else {
		l.PhoneNumbers = []string{}
	}

	l.TimeZone = strings.TrimSpace(l.TimeZone)
	switch {
	case l.TimeZone != "":
		if !zones.valid(l.TimeZone) {
			p.Add("time_zone", "is not an IANA time zone (such as Europe/Rome)")
		}
	case len(out) > 0:
		l.TimeZone = ZoneOf(out[0])
	}

	if l.Fields == nil {
		l.Fields = map[string]string{}
	}
	if len(l.Fields) > MaxFields {
		p.Add("fields", fmt.Sprintf("must hold at most %d entries", MaxFields))
	}
	for k, v := range l.Fields {
		switch {
		case k == "" || utf8.RuneCountInString(k) > MaxFieldKeyLength || !utf8.ValidString(k) || strings.ContainsRune(k, 0):
			p.Add("fields", fmt.Sprintf("keys must be 1 to %d characters of text", MaxFieldKeyLength))
		case utf8.RuneCountInString(v) > MaxFieldValue || !utf8.ValidString(v) || strings.ContainsRune(v, 0):
			p.Add("fields."+k, fmt.Sprintf("must be text of at most %d characters", MaxFieldValue))
		}
	}
	if l.Priority < MinPriority || l.Priority > MaxPriority {
		p.Add("priority", fmt.Sprintf("must be between %d and %d", MinPriority, MaxPriority))
	}
	if l.Status == "" {
		l.Status = switchboard.LeadUpcoming
	}
}

func checkText(p switchboard.Problems, field, v string, limit int) {
	switch {
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		p.Add(field, "must be UTF-8 text without NUL characters")
	case utf8.RuneCountInString(v) > limit:
		p.Add(field, fmt.Sprintf("must be at most %d characters", limit))
	}
}

// ZoneOf is the IANA time zone of an E.164 number's area when it has exactly
// one (phone.TimeZone), and "" otherwise: a lead left without a zone is
// dialled only when the calling hours allow it in every zone of its
// number's area, and not at all when none is known (the dialer's rules).
func ZoneOf(e164 string) string {
	z, _ := phone.TimeZone(e164)
	return z
}

// emergencyCodes are numbers that reach emergency services somewhere, as
// dialled: libphonenumber knows them per region, and a number without a
// region (an import into a tenant without a default region) is checked
// against these.
var emergencyCodes = map[string]bool{
	"000": true, "08": true, "100": true, "101": true, "102": true, "103": true, "108": true, "110": true,
	"112": true, "118": true, "119": true, "122": true, "15": true, "17": true, "18": true, "190": true,
	"192": true, "193": true, "911": true, "995": true, "997": true, "998": true, "999": true,
}

// maxEmergencyDigits bounds the numbers worth checking: libphonenumber's
// emergency numbers are short codes, and the check is exact, so a longer
// number is never one (and skips the regular expressions).
const maxEmergencyDigits = 8

// IsEmergency says whether input, as dialled in region (or anywhere when
// region is empty), or as an international number (+country code and a
// short code, such as +1 911), reaches emergency services. The dialer never
// dials one.
func IsEmergency(input, region string) bool {
	var b strings.Builder
	for i, r := range strings.TrimSpace(input) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' || r == '/':
		default:
			return false
		}
	}
	d := b.String()
	if rest, ok := strings.CutPrefix(d, "+"); ok {
		for i := 1; i <= 3 && i < len(rest); i++ {
			var cc int
			fmt.Sscan(rest[:i], &cc)
			regions := phonenumbers.GetRegionCodesForCountryCode(cc)
			short := rest[i:]
			if len(regions) == 0 || len(short) > maxEmergencyDigits {
				continue
			}
			if emergencyCodes[short] {
				return true
			}
			for _, r := range regions {
				if phonenumbers.IsEmergencyNumber(short, r) {
					return true
				}
			}
		}
		return false
	}
	if d == "" || len(d) > maxEmergencyDigits {
		return false
	}
	if emergencyCodes[d] {
		return true
	}
	return region != "" && phonenumbers.IsEmergencyNumber(d, strings.ToUpper(region))
}

// dialsEmergency is phone.IsEmergency without parsing the number again
// (which more than doubled an import's time): E.164 country codes are
// prefix-free, so the first known one splits the number into region and
// national number.
func dialsEmergency(e164 string) bool {
	d := strings.TrimPrefix(e164, "+")
	for i := 1; i <= 3 && i < len(d); i++ {
		cc, err := strconv.Atoi(d[:i])
		if err != nil {
			return false
		}
		if r := phonenumbers.GetRegionCodeForCountryCode(cc); r != phonenumbers.UNKNOWN_REGION {
			return phonenumbers.ConnectsToEmergencyNumber(d[i:], r)
		}
	}
	return false
}

// canonical recognizes a number already in E.164 that phone.Normalize
// would return unchanged, without its regular expressions (two thirds of an
// import's time, most numbers from a CRM being E.164 already): + and
// digits, a known country code, no national prefix after it that the parse
// would strip, and a possible length. ok false says nothing: phone.Normalize
// decides.
func canonical(s string) (string, bool) {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return "", false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	d := s[1:]
	for i := 1; i <= 3; i++ {
		cc, _ := strconv.Atoi(d[:i])
		if phonenumbers.GetRegionCodeForCountryCode(cc) == phonenumbers.UNKNOWN_REGION {
			continue
		}
		nsn := d[i:]
		prefix, known := parsingPrefix(cc)
		if !known || strings.Trim(prefix, "0123456789|") != "" {
			return "", false // a pattern: the parse decides
		}
		for _, p := range strings.Split(prefix, "|") {
			if p != "" && strings.HasPrefix(nsn, p) {
				return "", false
			}
		}
		national, err := strconv.ParseUint(nsn, 10, 64)
		if err != nil || len(nsn) < 2 {
			return "", false
		}
		cc32 := int32(cc)
		n := &phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &national}
		if nsn[0] == '0' {
			// As the parse records a national number's leading zeros.
			yes, zeros := true, int32(1)
			for int(zeros) < len(nsn)-1 && nsn[zeros] == '0' {
				zeros++
			}
			n.ItalianLeadingZero = &yes
			if zeros != 1 {
				n.NumberOfLeadingZeros = &zeros
			}
		}
		if !phonenumbers.IsPossibleNumber(n) || phonenumbers.Format(n, phonenumbers.E164) != s {
			return "", false
		}
		return s, true
	}
	return "", false
}

// parsingPrefixes are the national prefixes libphonenumber strips after a
// country code when parsing (digits, alternatives of digits such as
// 0|180020, or a pattern), by country code.
var parsingPrefixes = sync.OnceValue(func() map[int]string {
	m := map[int]string{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return m
	}
	for _, md := range coll.GetMetadata() {
		cc := int(md.GetCountryCode())
		if md.GetId() == phonenumbers.GetRegionCodeForCountryCode(cc) {
			m[cc] = md.GetNationalPrefixForParsing()
		}
	}
	return m
})

func parsingPrefix(cc int) (string, bool) {
	p, ok := parsingPrefixes()[cc]
	return p, ok
}

// zoneCache remembers which zone names load, for one import.
type zoneCache struct {
	mu sync.Mutex
	ok map[string]bool
}

func newZones() *zoneCache { return &zoneCache{ok: map[string]bool{}} }

func (z *zoneCache) valid(name string) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	ok, seen := z.ok[name]
	if !seen {
		_, err := time.LoadLocation(name)
		// "Local" loads too, but means this server's zone, not the lead's.
		ok = err == nil && name != "Local"
		z.ok[name] = ok
	}
	return ok
}
