package switchboard

import (
	"strconv"
	"unicode/utf8"
)

// Limits on what one object may hold. Every object is copied whole into the
// events its changes record, and from there into webhook deliveries and event
// streams, so an unbounded field would let one tenant make every event it
// causes as large as it likes. Lengths count characters (Unicode code points);
// a value over its limit is a CodeInvalid naming the field. The README lists
// them under "Limits".
const (
	// MaxNameLength bounds names, labels, titles and other short text.
	MaxNameLength = 200
	// MaxEmailLength is the longest e-mail address RFC 5321 lets through.
	MaxEmailLength = 254
	// MaxURLLength bounds URLs (contact CRM links, webhook targets).
	MaxURLLength = 2000
	// MaxNumberLength bounds a phone number as typed, before normalization.
	MaxNumberLength = 64
	// MaxSecretLength bounds passwords and other secrets a caller sets.
	MaxSecretLength = 128
	// MaxTimeZoneLength bounds an IANA time zone name.
	MaxTimeZoneLength = 64
	// MaxUserTeams bounds the teams of one user.
	MaxUserTeams = 100
	// MaxSkills bounds the skills of one user and the required skills of one
	// queue.
	MaxSkills = 100
	// MaxUserNumbers bounds the phone numbers of one user.
	MaxUserNumbers = 20
	// MaxWebhookHeaders bounds the extra headers of one webhook subscription,
	// MaxHeaderNameLength and MaxHeaderValueLength each of them (in bytes,
	// as they go on the wire).
	MaxWebhookHeaders    = 20
	MaxHeaderNameLength  = 100
	MaxHeaderValueLength = 1000
)

// checkLen records field as too long when v has more than max characters.
func checkLen(p Problems, field, v string, max int) {
	if len(v) > max && utf8.RuneCountInString(v) > max {
		p.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
	}
}

// checkItems records field as too long when it holds more than max items.
func checkItems(p Problems, field string, n, max int) {
	if n > max {
		p.Add(field, "must hold at most "+strconv.Itoa(max)+" items")
	}
}
