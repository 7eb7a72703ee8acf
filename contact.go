package switchboard

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Contact is a customer as the tenant's CRM knows them. Contacts are shared by
// every dialect and looked up by phone number when a call comes in, so that
// webhooks and call records can name the caller and link to the CRM.
type Contact struct {
	ID       int64 `json:"id"`
	TenantID int64 `json:"tenant_id"`
	// UUID is the identifier the dialects that show UUIDs give the contact.
	UUID         string `json:"uuid"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	PrimaryPhone string `json:"primary_phone"`
	// Phones are the other numbers, in E.164.
	Phones       []string `json:"phones"`
	PrimaryEmail string   `json:"primary_email"`
	Emails       []string `json:"emails"`
	CompanyName  string   `json:"company_name"`
	JobTitle     string   `json:"job_title"`
	Website      string   `json:"website"`
	// CRMName names the CRM the contact comes from; a dialect may fill in
	// its vendor's default when the caller does not say.
	CRMName       string    `json:"crm_name"`
	CRMContactURL string    `json:"crm_contact_url"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// ContactFields are the fields of a contact that its owner writes, as every
// API that files contacts takes them: an update replaces them all.
type ContactFields struct {
	FirstName    string `json:"first_name" limit:"200"`
	LastName     string `json:"last_name" limit:"200"`
	PrimaryPhone string `json:"primary_phone" limit:"64"`
	// Phones are the contact's other numbers; every number is E.164.
	Phones       []string `json:"phones" limit:"20"`
	PrimaryEmail string   `json:"primary_email" limit:"254"`
	Emails       []string `json:"emails" limit:"20"`
	CompanyName  string   `json:"company_name" limit:"200"`
	JobTitle     string   `json:"job_title" limit:"200"`
	Website      string   `json:"website" limit:"2000"`
	// CRMName names the contact's CRM; CRMContactURL links to the contact
	// there.
	CRMName       string `json:"crm_name" limit:"200"`
	CRMContactURL string `json:"crm_contact_url" limit:"2000"`
}

// Fields returns the fields of c that its owner writes.
func (c Contact) Fields() ContactFields {
	return ContactFields{FirstName: c.FirstName, LastName: c.LastName, PrimaryPhone: c.PrimaryPhone, Phones: c.Phones,
		PrimaryEmail: c.PrimaryEmail, Emails: c.Emails, CompanyName: c.CompanyName, JobTitle: c.JobTitle, Website: c.Website,
		CRMName: c.CRMName, CRMContactURL: c.CRMContactURL}
}

// SetFields replaces the fields of c that its owner writes with f.
func (c *Contact) SetFields(f ContactFields) {
	c.FirstName, c.LastName, c.PrimaryPhone, c.Phones = f.FirstName, f.LastName, f.PrimaryPhone, f.Phones
	c.PrimaryEmail, c.Emails, c.CompanyName, c.JobTitle = f.PrimaryEmail, f.Emails, f.CompanyName, f.JobTitle
	c.Website, c.CRMName, c.CRMContactURL = f.Website, f.CRMName, f.CRMContactURL
}

// MaxContactPhones bounds the secondary numbers and e-mails of a contact.
const MaxContactPhones = 20

// e164Pattern is the shape of an E.164 number: a plus, then up to 15 digits
// without a leading zero.
var e164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{5,14}$`)

// IsE164 reports whether s is written in E.164 form.
func IsE164(s string) bool { return e164Pattern.MatchString(s) }

// Normalize trims the contact's fields and fills defaults.
func (c *Contact) Normalize() {
	for _, s := range []*string{&c.FirstName, &c.LastName, &c.PrimaryPhone, &c.PrimaryEmail, &c.CompanyName,
		&c.JobTitle, &c.Website, &c.CRMName, &c.CRMContactURL} {
		*s = strings.TrimSpace(*s)
	}
	if c.Phones == nil {
		c.Phones = []string{}
	}
	if c.Emails == nil {
		c.Emails = []string{}
	}
	for i := range c.Phones {
		c.Phones[i] = strings.TrimSpace(c.Phones[i])
	}
	for i := range c.Emails {
		c.Emails[i] = strings.TrimSpace(c.Emails[i])
	}
}

// Validate reports every invalid field of c. Numbers must already be E.164:
// contacts come from CRMs, which know their numbers' countries; guessing one
// here would file a caller under the wrong person.
func (c *Contact) Validate() error {
	p := Problems{}
	checkName(p, "first_name", c.FirstName, true)
	checkName(p, "last_name", c.LastName, false)
	switch {
	case c.PrimaryPhone == "":
		p.Add("primary_phone", "is required")
	case !IsE164(c.PrimaryPhone):
		p.Add("primary_phone", "must be in E.164 format, such as +390312345678")
	}
	if len(c.Phones) > MaxContactPhones {
		p.Add("phones", "must hold at most "+strconv.Itoa(MaxContactPhones)+" numbers")
	}
	for i, n := range c.Phones {
		if len(c.Phones) > MaxContactPhones {
			break
		}
		if !IsE164(n) {
			p.Add("phones["+strconv.Itoa(i)+"]", "must be in E.164 format, such as +390387654321")
		}
	}
	if c.PrimaryEmail != "" {
		checkEmail(p, "primary_email", c.PrimaryEmail)
	}
	if len(c.Emails) > MaxContactPhones {
		p.Add("emails", "must hold at most "+strconv.Itoa(MaxContactPhones)+" addresses")
	}
	for i, e := range c.Emails {
		if len(c.Emails) > MaxContactPhones {
			break
		}
		checkEmail(p, "emails["+strconv.Itoa(i)+"]", e)
	}
	checkName(p, "company_name", c.CompanyName, false)
	checkName(p, "job_title", c.JobTitle, false)
	checkLen(p, "website", c.Website, MaxURLLength)
	checkName(p, "crm_name", c.CRMName, false)
	if c.CRMContactURL != "" {
		u, err := url.Parse(c.CRMContactURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(c.CRMContactURL) > 2000 {
			p.Add("crm_contact_url", "must be an absolute http:// or https:// URL of at most 2000 characters")
		}
	}
	return p.Err()
}

// Numbers returns every number of the contact, the primary one first.
func (c *Contact) Numbers() []string {
	return append([]string{c.PrimaryPhone}, c.Phones...)
}

// ContactFilter narrows a contact search. Each set field must match part of
// the contact, ignoring case; Phone matches any of its numbers and Email any
// of its addresses.
type ContactFilter struct {
	FirstName, LastName, Phone, Email string
}

// ClickToCall is a reusable click-to-call link: a named pairing of an
// extension (a user's or a queue's) with the outbound number shown to the
// contacts it calls. Connecting it with a contact's number places the call.
type ClickToCall struct {
	ID       int64 `json:"id"`
	TenantID int64 `json:"tenant_id"`
	// Key is the identifier the link is invoked by (32 hex digits).
	Key       string `json:"key"`
	Name      string `json:"name"`
	Extension string `json:"extension"`
	// OutboundNumber must be one of the tenant's numbers, in E.164.
	OutboundNumber string `json:"outbound_number"`
	// DialFirst is DialContact or DialExtension.
	DialFirst string    `json:"dial_first"`
	CreatedAt time.Time `json:"created_at"`
}

// Who a click-to-call rings first.
const (
	DialContact   = "contact"
	DialExtension = "extension"
)

// Normalize trims the link's fields and fills defaults.
func (l *ClickToCall) Normalize() {
	l.Name, l.Extension, l.OutboundNumber = strings.TrimSpace(l.Name), strings.TrimSpace(l.Extension), strings.TrimSpace(l.OutboundNumber)
	if l.DialFirst == "" {
		l.DialFirst = DialExtension
	}
}

// Validate reports every invalid field of l. That the extension and the
// number belong to the tenant is the store's check.
func (l *ClickToCall) Validate() error {
	p := Problems{}
	checkName(p, "name", l.Name, true)
	switch {
	case l.Extension == "":
		p.Add("extension", "is required")
	case !dialablePattern.MatchString(l.Extension):
		p.Add("extension", "must be 1-20 digits")
	}
	if l.OutboundNumber == "" {
		p.Add("outbound_number", "is required")
	}
	checkLen(p, "outbound_number", l.OutboundNumber, MaxNumberLength)
	if l.DialFirst != DialContact && l.DialFirst != DialExtension {
		p.Add("dial_first", "must be contact or extension")
	}
	return p.Err()
}
