package leadimport

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/internal/phone"
)

func TestParseJSON(t *testing.T) {
	body := `[
	 {"name":"Ann","phone_number":"+1 212 555 0100","external_id":"crm-1","priority":5,"consent":true,
	  "fields":{"plan":"gold"},"city":"New York","score":7,"vip":false},
	 {"name":"Bob","phone":"+44 20 7946 0000","phone_numbers":["+44 20 7946 0001","+44 20 7946 0000"],"time_zone":"Europe/Rome","consent":"no"},
	 {"name":"Cat","phone_number":"390112121212","external_unique_id":"crm-3","consent":null,"priority":"2"}
	]`
	leads, rows, errs, err := Parse(FormatJSON, []byte("\ufeff"+body), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 0 {
		t.Fatalf("row errors %+v", errs)
	}
	yes, no := true, false
	want := []switchboard.Lead{
		{Name: "Ann", PhoneNumber: "+12125550100", PhoneNumbers: []string{"+12125550100"}, ExternalID: "crm-1", Priority: 5,
			Consent: &yes, TimeZone: "America/New_York", Status: switchboard.LeadUpcoming,
			Fields: map[string]string{"plan": "gold", "city": "New York", "score": "7", "vip": "false"}},
		{Name: "Bob", PhoneNumber: "+442079460000", PhoneNumbers: []string{"+442079460000", "+442079460001"}, Consent: &no,
			TimeZone: "Europe/Rome", Status: switchboard.LeadUpcoming, Fields: map[string]string{}},
		{Name: "Cat", PhoneNumber: "+390112121212", PhoneNumbers: []string{"+390112121212"}, ExternalID: "crm-3", Priority: 2,
			TimeZone: "Europe/Rome", Status: switchboard.LeadUpcoming, Fields: map[string]string{}},
	}
	if diff := cmp.Diff(want, leads); diff != "" {
		t.Errorf("leads (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestParseCSV(t *testing.T) {
	body := "\ufeffName,Phone,phone_2,Phone_Numbers,External_Unique_ID,Priority,Consent,Time_Zone,Plan\n" +
		"Ann,+1 212 555 0100,+1 212 555 0101,,crm-1,3,yes,,gold\n" +
		"\"Bob, Jr\",+44 20 7946 0000,,+44 20 7946 0001; +44 20 7946 0002,,,0,Europe/London,\n" +
		"Cat,0112121212,,,,,,,silver\n"
	leads, rows, errs, err := Parse(FormatCSV, []byte(body), "IT")
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 0 {
		t.Fatalf("row errors %+v", errs)
	}
	yes, no := true, false
	want := []switchboard.Lead{
		{Name: "Ann", PhoneNumber: "+12125550100", PhoneNumbers: []string{"+12125550100", "+12125550101"}, ExternalID: "crm-1",
			Priority: 3, Consent: &yes, TimeZone: "America/New_York", Status: switchboard.LeadUpcoming, Fields: map[string]string{"Plan": "gold"}},
		{Name: "Bob, Jr", PhoneNumber: "+442079460000", PhoneNumbers: []string{"+442079460000", "+442079460001", "+442079460002"},
			Consent: &no, TimeZone: "Europe/London", Status: switchboard.LeadUpcoming, Fields: map[string]string{}},
		{Name: "Cat", PhoneNumber: "+390112121212", PhoneNumbers: []string{"+390112121212"}, TimeZone: "Europe/Rome",
			Status: switchboard.LeadUpcoming, Fields: map[string]string{"Plan": "silver"}},
	}
	if diff := cmp.Diff(want, leads); diff != "" {
		t.Errorf("leads (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// TestRowErrors sends one row of each kind of mistake among good rows: each
// is refused with its row and the field, and the good rows go through.
func TestRowErrors(t *testing.T) {
	long := strings.Repeat("x", MaxNameLength+1)
	tests := []struct {
		name, format, row, field, message string
	}{
		{"json: no number", "json", `{"name":"A"}`, "phone_number", "is required"},
		{"json: bad number", "json", `{"phone_number":"call me"}`, "phone_number", "is not a valid phone number"},
		{"json: too short", "json", `{"phone_number":"+1"}`, "phone_number", "is not a valid phone number"},
		{"json: emergency 911", "json", `{"phone_number":"911"}`, "phone_number", "is an emergency number"},
		{"json: emergency 112", "json", `{"phone_number":"112"}`, "phone_number", "is an emergency number"},
		{"json: emergency +44 999", "json", `{"phone_number":"+44 999"}`, "phone_number", "is an emergency number"},
		{"json: emergency +1 911", "json", `{"phone_number":"+1 (911)"}`, "phone_number", "is an emergency number"},
		{"json: emergency among numbers", "json", `{"phone_number":"+12125550100","phone_numbers":["000"]}`, "phone_numbers[0]", "is an emergency number"},
		{"json: bad extra number", "json", `{"phone_number":"+12125550100","phone_numbers":["+12125550100","nope"]}`, "phone_numbers[1]", "is not a valid phone number"},
		{"json: numbers not a list", "json", `{"phone_number":"+12125550100","phone_numbers":"+12125550101"}`, "phone_numbers", "must be an array"},
		{"json: bad zone", "json", `{"phone_number":"+12125550100","time_zone":"Mars/Olympus"}`, "time_zone", "is not an IANA time zone"},
		{"json: Local is not a zone", "json", `{"phone_number":"+12125550100","time_zone":"Local"}`, "time_zone", "is not an IANA time zone"},
		{"json: bad consent", "json", `{"phone_number":"+12125550100","consent":"maybe"}`, "consent", "must be true, false"},
		{"json: fractional priority", "json", `{"phone_number":"+12125550100","priority":1.5}`, "priority", "must be a whole number"},
		{"json: priority out of range", "json", `{"phone_number":"+12125550100","priority":1e12}`, "priority", "must be between"},
		{"json: long name", "json", `{"phone_number":"+12125550100","name":"` + long + `"}`, "name", "must be at most 200"},
		{"json: name not text", "json", `{"phone_number":"+12125550100","name":["A"]}`, "name", "must be text"},
		{"json: nested unknown key", "json", `{"phone_number":"+12125550100","address":{"city":"X"}}`, "address", "is not a lead field"},
		{"json: field not text", "json", `{"phone_number":"+12125550100","fields":{"a":{"b":1}}}`, "fields.a", "must be text"},
		{"json: not an object", "json", `"+12125550100"`, "", "must be a JSON object"},
		{"csv: no number", "csv", `Ann,,,,`, "phone_number", "is required"},
		{"json: bad phone", "json", `{"phone":"12"}`, "phone", "is not a valid phone number"},
		{"json: phone twice", "json", `{"phone":"+12125550111","phone_number":"+12125550111"}`, "phone", "the same field"},
		{"json: external id twice", "json", `{"phone":"+12125550111","external_id":"a","external_unique_id":"b"}`, "external_unique_id", "the same field"},
		{"csv: bad number", "csv", `Ann,12,,,`, "phone_number", "is not a valid phone number"},
		{"csv: emergency", "csv", `Ann,999,,,`, "phone_number", "is an emergency number"},
		{"csv: bad phone_2", "csv", `Ann,+12125550100,x,,`, "phone_2", "is not a valid phone number"},
		{"csv: bad priority", "csv", `Ann,+12125550100,,high,`, "priority", "must be a whole number"},
		{"csv: bad consent", "csv", `Ann,+12125550100,,,perhaps`, "consent", "must be true, false"},
		{"csv: cell without a column", "csv", `Ann,+12125550100,,,,extra`, "column 6", "has no column name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body string
			if tt.format == "json" {
				body = `[{"phone_number":"+12125550100"},` + tt.row + `,{"phone_number":"+12125550102"}]`
			} else {
				body = "name,phone_number,phone_2,priority,consent\nAnn,+12125550100,,,\n" + tt.row + "\nCat,+12125550102,,,\n"
			}
			leads, rows, errs, err := Parse(tt.format, []byte(body), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(errs) != 1 || errs[0].Row != 2 || errs[0].Field != tt.field || !strings.Contains(errs[0].Message, tt.message) {
				t.Fatalf("errors %+v, want one on row 2, field %q: %q", errs, tt.field, tt.message)
			}
			if len(leads) != 2 || fmt.Sprint(rows) != "[1 3]" {
				t.Errorf("leads %d, rows %v; want the rows 1 and 3", len(leads), rows)
			}
		})
	}
}

// TestBodyErrors: a body that cannot be read at all fails whole with
// CodeInvalid.
func TestBodyErrors(t *testing.T) {
	many := bytes.NewBufferString("phone_number\n")
	for i := range MaxRows + 1 {
		fmt.Fprintf(many, "+1212555%04d\n", i%10000)
	}
	tests := []struct {
		name, format, body, message string
	}{
		{"not JSON", "json", `{"phone_number":"+12125550100"}`, "must be a JSON array"},
		{"broken JSON", "json", `[{"phone_number":"+12125550100"}`, "must be a JSON array"},
		{"empty array", "json", `[]`, "holds no leads"},
		{"empty CSV", "csv", ``, "is empty"},
		{"CSV without a phone column", "csv", "name,email\nAnn,a@b.c\n", "has no phone_number"},
		{"CSV naming a column twice", "csv", "phone,phone_number\n+12125550100,+12125550101\n", "twice"},
		{"CSV header only", "csv", "phone\n", "holds no leads"},
		{"too many rows", "csv", many.String(), "at most 100000"},
		{"too large", "csv", "phone\n" + strings.Repeat("+12125550100\n", MaxBodyBytes/13+1), "at most 32 MiB"},
		{"unknown format", "xml", `<leads/>`, "json or csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := Parse(tt.format, []byte(tt.body), "")
			if switchboard.ErrorCode(err) != switchboard.CodeInvalid || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %v, want invalid: %q", err, tt.message)
			}
		})
	}
}

func TestZones(t *testing.T) {
	tests := []struct{ number, zone string }{
		{"+1 212 555 0100", "America/New_York"},
		{"+1 415 555 0100", "America/Los_Angeles"},
		{"+44 20 7946 0000", "Europe/London"},
		{"+39 011 2121212", "Europe/Rome"},
		{"+61 2 1234 5678", "Australia/Sydney"},
		{"+81 3 1234 5678", "Asia/Tokyo"},
	}
	for _, tt := range tests {
		l := switchboard.Lead{PhoneNumber: tt.number}
		if err := Normalize(&l, ""); err != nil {
			t.Fatalf("%s: %v", tt.number, err)
		}
		if l.TimeZone != tt.zone {
			t.Errorf("%s: zone %q, want %q", tt.number, l.TimeZone, tt.zone)
		}
		if _, err := time.LoadLocation(l.TimeZone); err != nil {
			t.Errorf("%s: zone %q does not load: %v", tt.number, l.TimeZone, err)
		}
	}
	// A number the map knows no zone for (an international service number)
	// counts its hours in UTC.
	if z := ZoneOf("+80012345678"); z != "" {
		t.Errorf("ZoneOf(+800…) = %q, want none", z)
	}
}

func TestNormalizeNamesFields(t *testing.T) {
	l := switchboard.Lead{Name: strings.Repeat("n", 201), PhoneNumber: "911", PhoneNumbers: []string{"+12125550100", "bad"},
		TimeZone: "Nowhere/Else", Priority: 5000, Fields: map[string]string{"k": strings.Repeat("v", MaxFieldValue+1)}}
	err := Normalize(&l, "US")
	want := map[string]string{
		"name":             "must be at most 200 characters",
		"phone_number":     "is an emergency number",
		"phone_numbers[1]": "is not a valid phone number (give it in E.164, +country code and number)",
		"time_zone":        "is not an IANA time zone (such as Europe/Rome)",
		"priority":         "must be between -1000 and 1000",
		"fields.k":         "must be text of at most 1000 characters",
	}
	if switchboard.ErrorCode(err) != switchboard.CodeInvalid {
		t.Fatalf("error %v, want invalid", err)
	}
	if diff := cmp.Diff(want, switchboard.ErrorFields(err)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	// A national number reads in the region given.
	l = switchboard.Lead{PhoneNumber: "(212) 555-0100"}
	if err := Normalize(&l, "US"); err != nil || l.PhoneNumber != "+12125550100" || l.TimeZone != "America/New_York" {
		t.Errorf("national number: %v %+v", err, l)
	}
	// PhoneNumbers always starts with PhoneNumber, once.
	l = switchboard.Lead{PhoneNumber: "+12125550101", PhoneNumbers: []string{"+12125550100", "+1 212 555 0101"}}
	if err := Normalize(&l, ""); err != nil || fmt.Sprint(l.PhoneNumbers) != "[+12125550101 +12125550100]" {
		t.Errorf("numbers: %v %v", err, l.PhoneNumbers)
	}
}

func TestIsEmergency(t *testing.T) {
	for _, n := range []string{"911", "112", "999", "000", "110", "119", "+1 911", "+44 999", "+44 112", "+61 000", "+81 110"} {
		if !IsEmergency(n, "") {
			t.Errorf("IsEmergency(%q) = false", n)
		}
	}
	if !IsEmergency("115", "IT") { // Italy's fire brigade, known to libphonenumber only
		t.Errorf("IsEmergency(115, IT) = false")
	}
	for _, n := range []string{"+12125550100", "+442079460000", "2125550100", "9111234567", "+1 911 555 0100", "", "abc"} {
		if IsEmergency(n, "US") {
			t.Errorf("IsEmergency(%q) = true", n)
		}
	}
}

// TestRowErrorsCapped: past MaxImportErrors, rows are still refused and
// counted, their errors not kept.
func TestRowErrorsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("phone\n")
	for range switchboard.MaxImportErrors + 500 {
		b.WriteString("not a number\n")
	}
	b.WriteString("+12125550100\n")
	p, err := parse(FormatCSV, []byte(b.String()), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.errs) != switchboard.MaxImportErrors || p.rejected != switchboard.MaxImportErrors+500 || len(p.leads) != 1 ||
		p.rows[0] != switchboard.MaxImportErrors+501 || p.total != switchboard.MaxImportErrors+501 {
		t.Errorf("errors %d, rejected %d, leads %d, rows %v, total %d", len(p.errs), p.rejected, len(p.leads), p.rows, p.total)
	}
}

// csv100k is a CSV of 100,000 leads as a CRM exports them: national and
// international numbers of several countries, a second number on some,
// custom columns, given zones on a few.
func csv100k() []byte {
	var b bytes.Buffer
	b.WriteString("external_id,name,phone_number,phone_2,time_zone,priority,consent,plan,city\n")
	prefixes := []string{"+1212555", "+1415555", "+4420794", "+3901121", "+6121234"}
	for i := range MaxRows {
		zone := ""
		if i%10 == 0 {
			zone = "Europe/Rome"
		}
		second := ""
		if i%3 == 0 {
			second = fmt.Sprintf("+1646555%04d", i%10000)
		}
		fmt.Fprintf(&b, "crm-%d,Lead %d,%s%04d,%s,%s,%d,yes,gold,Springfield\n", i, i, prefixes[i%len(prefixes)], i%10000,
			second, zone, i%10)
	}
	return b.Bytes()
}

func TestParse100k(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("100,000 rows: not in -short, nor under the race detector (.ci/run runs it on its own)")
	}
	body := csv100k()
	start := time.Now()
	leads, _, errs, err := Parse(FormatCSV, body, "")
	elapsed := time.Since(start)
	if err != nil || len(errs) != 0 {
		t.Fatalf("err %v, row errors %v", err, errs[:min(len(errs), 5)])
	}
	if len(leads) != MaxRows {
		t.Fatalf("%d leads", len(leads))
	}
	// How fast is BenchmarkParseCSV100k's to say, not a test's.
	t.Logf("100,000 CSV rows (%d MiB) in %v", len(body)>>20, elapsed)
}

func BenchmarkParseCSV100k(b *testing.B) {
	body := csv100k()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, _, err := Parse(FormatCSV, body, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDialsEmergencyIsPhones: the import's fast check refuses every number
// the dialer's (phone.IsEmergency) refuses, among ordinary and
// emergency-looking numbers that normalize. (It refuses a few more: +61 000
// 123, which libphonenumber parses without its leading zeros.)
func TestDialsEmergencyIsPhones(t *testing.T) {
	numbers := []string{"+19115550100", "+12125550100", "+441123456789", "+442079460000", "+4999912345", "+49112", "+4411212345", "+1911",
		"+3911212345", "+390112121212", "+61000123", "+6121234567", "+8111012345", "+81312345678", "+7112", "+79161234567"}
	for _, n := range numbers {
		if _, err := phone.Normalize(n, ""); err != nil {
			continue // never reaches the check
		}
		if got, want := dialsEmergency(n), phone.IsEmergency(n); want && !got {
			t.Errorf("dialsEmergency(%s) = %v, phone.IsEmergency %v", n, got, want)
		}
	}
}

// TestCanonicalIsNormalize: the fast path for numbers already in E.164
// answers exactly what phone.Normalize does, on the benchmark's numbers and
// on random numbers of many countries with the leading digits national
// prefixes use.
func TestCanonicalIsNormalize(t *testing.T) {
	var numbers []string
	for _, line := range strings.Split(string(csv100k()), "\n")[1:2000] {
		if cells := strings.Split(line, ","); len(cells) > 3 {
			numbers = append(numbers, cells[2])
		}
	}
	numbers = append(numbers, "+61000123", "+442079460000", "+4402079460000", "+4930123456", "+49030123456", "+390112121212",
		"+393471234567", "+18005551234", "+112125550100", "+80012345678", "+79161234567", "+789161234567", "+5491123456789",
		"+541123456789", "+525512345678", "+5215512345678", "+33612345678", "+330612345678", "+8613800138000", "+86013800138000")
	rnd := rand.New(rand.NewPCG(7, 7))
	codes := []int{1, 7, 20, 27, 30, 31, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 54, 55, 56, 57, 60, 61, 62,
		63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 234, 254, 351, 353, 358, 380, 420, 800, 852, 971, 972}
	for range 20000 {
		var b strings.Builder
		fmt.Fprintf(&b, "+%d", codes[rnd.IntN(len(codes))])
		b.WriteByte("0189234567"[rnd.IntN(10)])
		for range 5 + rnd.IntN(8) {
			b.WriteByte(byte('0' + rnd.IntN(10)))
		}
		numbers = append(numbers, b.String())
	}
	fast := 0
	for _, n := range numbers {
		got, ok := canonical(n)
		if !ok {
			continue
		}
		fast++
		if want, err := phone.Normalize(n, ""); err != nil || want != got {
			t.Errorf("canonical(%s) = %s; phone.Normalize: %s %v", n, got, want, err)
		}
	}
	t.Logf("%d of %d numbers took the fast path", fast, len(numbers))
	if fast < len(numbers)/4 {
		t.Errorf("only %d of %d numbers took the fast path", fast, len(numbers))
	}
}
