// Package phone normalizes telephone numbers to E.164 with
// github.com/nyaruka/phonenumbers, the Go port of Google's libphonenumber, so that
// every number Switchboard stores or compares has exactly one spelling.
package phone

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Normalize returns the E.164 form of input. Numbers without a leading + are read
// as national numbers of region (an ISO 3166 code such as "IT"); when region is
// empty, a bare string of digits is taken as already international, which is how
// most CRMs store numbers ("390112121212").
func Normalize(input, region string) (string, error) {
	s := strings.TrimSpace(input)
	if s == "" {
		return "", fmt.Errorf("empty number")
	}
	if !strings.HasPrefix(s, "+") && region == "" {
		if strings.HasPrefix(s, "00") {
			s = "+" + s[2:]
		} else {
			s = "+" + s
		}
	}
	n, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil {
		return "", fmt.Errorf("parse %q: %w", input, err)
	}
	if !phonenumbers.IsPossibleNumber(n) {
		return "", fmt.Errorf("%q is not a possible phone number", input)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// TimeZones are the IANA time zones of an E.164 number's area, from
// libphonenumber's prefix map: one for most numbers, several when the
// prefix spans zones (a country-wide or toll-free prefix), none when the map
// knows none.
func TimeZones(e164 string) []string {
	zones, err := phonenumbers.GetTimezonesForPrefix(e164)
	if err != nil || len(zones) == 0 || zones[0] == phonenumbers.UNKNOWN_TIMEZONE {
		return nil
	}
	return zones
}

// TimeZone is the time zone of an E.164 number's area when it has exactly
// one: a number whose prefix spans zones has no single local time, and
// guessing one could call someone at night.
func TimeZone(e164 string) (zone string, ok bool) {
	zones := TimeZones(e164)
	if len(zones) != 1 {
		return "", false
	}
	return zones[0], true
}

// IsEmergency says whether an E.164 number is, or dials straight into, an
// emergency service of its country (+1 911, +44 999, +49 112): no campaign
// may ever dial one, whatever a lead list says.
func IsEmergency(e164 string) bool {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return false
	}
	region := phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode()))
	national := phonenumbers.GetNationalSignificantNumber(n)
	return phonenumbers.ConnectsToEmergencyNumber(national, region)
}
