package switchboard

import (
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Tenant is one contact center hosted on a Switchboard installation. Every other
// object belongs to exactly one tenant, and the store never lets a query cross
// from one tenant into another.
type Tenant struct {
	ID   int64  `json:"id"`
	Slug string `json:"slug"`
	// UUID names the tenant where a dialect shows one (Voiso's
	// contact_center_id); given at creation, never changed.
	UUID       string `json:"uuid"`
	Name       string `json:"name"`
	AdminEmail string `json:"admin_email"`
	Timezone   string `json:"timezone"`
	// BalanceCents is the prepaid billing balance in minor units of Currency, kept
	// as an integer so that no rounding ever creeps into money.
	BalanceCents int64  `json:"balance_cents"`
	Currency     string `json:"currency"`
	// PublicStatus lets anyone read the tenant's agents' online state and
	// its queues' basic figures without a key (a dialect's public status
	// endpoints, for status pages).
	PublicStatus bool      `json:"public_status"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// SMSDailyPerRecipient caps the SMS one agent sends to one number per
	// calendar day in Timezone (0: no cap). Nil on a write keeps what is
	// stored (DefaultSMSDailyPerRecipient for a new tenant); every read
	// sets it. PATCH /v1/tenant sets it.
	SMSDailyPerRecipient *int `json:"sms_daily_per_recipient"`
	// CompanySecret signs what clients send the tenant signed (UJET's signed
	// custom data, an HS256 JWT). It is write-only: never rendered, never
	// in an event. Nil on a write keeps what is stored; every read sets it
	// ("" when none is set). PATCH /v1/tenant sets it.
	CompanySecret *string `json:"-"`
}

// DefaultSMSDailyPerRecipient is Voiso's cap on the SMS one agent sends to
// one number in a day, every tenant's until it sets its own.
const DefaultSMSDailyPerRecipient = 20

// MaxCompanySecretLength bounds a tenant's company secret.
const MaxCompanySecretLength = 200

// MaxSMSDailyPerRecipient bounds the daily cap a tenant may set.
const MaxSMSDailyPerRecipient = 100000

var (
	slugPattern     = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// Normalize fills defaults and trims input; Validate expects a normalized tenant.
func (t *Tenant) Normalize() {
	t.Slug = strings.ToLower(strings.TrimSpace(t.Slug))
	t.Name = strings.TrimSpace(t.Name)
	t.AdminEmail = strings.TrimSpace(t.AdminEmail)
	if t.Timezone == "" {
		t.Timezone = "UTC"
	}
	if t.Currency == "" {
		t.Currency = "USD"
	}
	t.Currency = strings.ToUpper(t.Currency)
}

// Validate reports every invalid field of t.
func (t *Tenant) Validate() error {
	p := Problems{}
	switch {
	case t.Slug == "":
		p.Add("slug", "is required")
	case !slugPattern.MatchString(t.Slug):
		p.Add("slug", "must be 1-63 lower-case letters, digits or inner hyphens")
	}
	checkName(p, "name", t.Name, true)
	if t.AdminEmail != "" {
		checkEmail(p, "admin_email", t.AdminEmail)
	}
	checkTimezone(p, "timezone", t.Timezone)
	if t.CompanySecret != nil {
		checkLen(p, "company_secret", *t.CompanySecret, MaxCompanySecretLength)
	}
	if n := t.SMSDailyPerRecipient; n != nil && (*n < 0 || *n > MaxSMSDailyPerRecipient) {
		p.Add("sms_daily_per_recipient", "must be between 0 (no cap) and 100000")
	}
	if !currencyPattern.MatchString(t.Currency) {
		p.Add("currency", "must be a three-letter ISO 4217 code")
	}
	return p.Err()
}

func checkName(p Problems, field, v string, required bool) {
	if v == "" && required {
		p.Add(field, "is required")
	}
	checkLen(p, field, v, MaxNameLength)
}

func checkEmail(p Problems, field, v string) {
	if utf8.RuneCountInString(v) > MaxEmailLength {
		p.Add(field, "must be at most "+strconv.Itoa(MaxEmailLength)+" characters")
		return
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || !strings.Contains(v, "@") {
		p.Add(field, "must be a plain e-mail address such as agent@example.com")
	}
}

func checkTimezone(p Problems, field, v string) {
	if v == "" {
		return
	}
	if len(v) > MaxTimeZoneLength {
		p.Add(field, "must be an IANA time zone such as Europe/Rome")
		return
	}
	if _, err := time.LoadLocation(v); err != nil {
		p.Add(field, "must be an IANA time zone such as Europe/Rome")
	}
}
