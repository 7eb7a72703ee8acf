// Package leadimport reads the leads of a campaign or contact list from a
// JSON array or a CSV file, and inserts them in the background, for the bulk
// import of the native API (POST /v1/campaigns/{id}/leads) and the dialer.
//
// Parse reads the whole body and checks every row, so that a bad row is
// reported with its number, field and reason while the others go in; only a
// body that cannot be read at all (not a JSON array, a CSV without a phone
// column, too many rows) fails whole. Numbers are normalized to E.164,
// emergency numbers refused, and a lead without a time zone gets its
// number's (calling hours count in the lead's own zone). Run then inserts
// the parsed leads in batches through the store, recording the job's
// progress and the duplicates the store found after each batch, so that
// GET /v1/lead_imports/{id} shows a hundred-thousand-row import advancing.
//
// Unlike internal/userimport, which creates users one by one, the leads go
// in a thousand to a transaction: duplicates are detected by the store
// (by external id, or by number when there is none), within the body and
// against the leads already there.
package leadimport

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"switchboard"
)

// Limits of one import body.
const (
	MaxBodyBytes = 32 << 20
	MaxRows      = 100_000
)

// The formats Parse reads.
const (
	FormatJSON = "json"
	FormatCSV  = "csv"
)

// row is one lead as read, before normalization: its number in the body and
// the problems reading it met.
type row struct {
	lead switchboard.Lead
	// numberFields names each number of lead.PhoneNumbers as the input did
	// (phone_2, phone_numbers[1]), for the row errors.
	numberFields []string
	// phoneField is the name the input gave phone_number (phone).
	phoneField string
	problems   switchboard.Problems
}

// parsed is a whole body read and checked.
type parsed struct {
	leads    []switchboard.Lead
	rows     []int // the body row of each lead, 1-based
	errs     []switchboard.ImportRowError
	total    int // rows in the body
	rejected int // rows refused
}

// Parse reads a JSON array of lead objects or a CSV file with a header row
// (format "json" or "csv") and returns the valid leads, each one's row in the
// body (1-based, a CSV header not counted), and the errors of the rows it
// refused, at most switchboard.MaxImportErrors of them (Prepare counts every
// refused row). region reads numbers without a leading + as national
// numbers of that ISO 3166 region ("" takes them as international). The
// error, with CodeInvalid, is for a body that cannot be read at all.
//
// JSON objects take name, phone_number (or phone), phone_numbers (an
// array), time_zone, external_id (or external_unique_id), priority (a
// number), consent (true, false, "yes", "no", "1", "0" or null) and fields
// (an object of text); any other key with a text, number or boolean value
// becomes a field. CSV columns take the same names; phone_2 to phone_5 and a
// phone_numbers cell separated by ";" add numbers, and every other column
// becomes a field.
func Parse(format string, body []byte, region string) ([]switchboard.Lead, []int, []switchboard.ImportRowError, error) {
	p, err := parse(format, body, region)
	return p.leads, p.rows, p.errs, err
}

func parse(format string, body []byte, region string) (parsed, error) {
	if len(body) > MaxBodyBytes {
		return parsed{}, bodyError("an import body must be at most %d MiB", MaxBodyBytes>>20)
	}
	var rows []row
	var err error
	switch format {
	case FormatJSON:
		rows, err = readJSON(body)
	case FormatCSV:
		rows, err = readCSV(body)
	default:
		return parsed{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "the format must be json or csv",
			Fields: map[string]string{"format": "must be json or csv"}}
	}
	if err != nil {
		return parsed{}, err
	}
	if len(rows) == 0 {
		return parsed{}, bodyError("the body holds no leads")
	}
	check(rows, region)

	out := parsed{total: len(rows), leads: make([]switchboard.Lead, 0, len(rows)), rows: make([]int, 0, len(rows)),
		errs: []switchboard.ImportRowError{}}
	for i := range rows {
		r := &rows[i]
		if len(r.problems) == 0 {
			out.leads = append(out.leads, r.lead)
			out.rows = append(out.rows, i+1)
			continue
		}
		out.rejected++
		fields := make([]string, 0, len(r.problems))
		for f := range r.problems {
			fields = append(fields, f)
		}
		slices.Sort(fields)
		for _, f := range fields {
			if len(out.errs) < switchboard.MaxImportErrors {
				out.errs = append(out.errs, switchboard.ImportRowError{Row: i + 1, Field: f, Message: r.problems[f]})
			}
		}
	}
	return out, nil
}

// check normalizes every row, on every core: libphonenumber takes tens of
// microseconds a number, most of a large import's time.
func check(rows []row, region string) {
	zones := newZones()
	workers := min(runtime.GOMAXPROCS(0), max(1, len(rows)/500))
	var wg sync.WaitGroup
	chunk := (len(rows) + workers - 1) / workers
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		wg.Go(func() {
			for i := range part {
				checkRow(&part[i], region, zones)
			}
		})
	}
	wg.Wait()
}

func checkRow(r *row, region string, zones *zoneCache) {
	if _, notLead := r.problems[""]; notLead {
		return
	}
	p := switchboard.Problems{}
	normalize(&r.lead, region, p, zones)
	for f, why := range p {
		// Name a number as the input did (phone_2 rather than
		// phone_numbers[1]).
		var i int
		if n, _ := fmt.Sscanf(f, "phone_numbers[%d]", &i); n == 1 && i < len(r.numberFields) {
			f = r.numberFields[i]
		}
		if f == "phone_number" && r.phoneField != "" {
			f = r.phoneField
		}
		if r.problems == nil {
			r.problems = switchboard.Problems{}
		}
		r.problems.Add(f, why)
	}
}

func bodyError(format string, args ...any) error {
	return switchboard.Errorf(switchboard.CodeInvalid, format, args...)
}

// readJSON reads a JSON array of objects. Each element is read on its own,
// so that one malformed object is that row's error.
func readJSON(body []byte) ([]row, error) {
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '[' {
		return nil, bodyError("the body must be a JSON array of lead objects")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, bodyError("the body must be a JSON array of lead objects: %v", err)
	}
	if len(raw) > MaxRows {
		return nil, bodyError("an import holds at most %d leads, not %d", MaxRows, len(raw))
	}
	rows := make([]row, len(raw))
	for i, el := range raw {
		rows[i] = jsonRow(el)
	}
	return rows, nil
}

func jsonRow(el json.RawMessage) row {
	var r row
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(el, &obj); err != nil || obj == nil {
		r.problems = switchboard.Problems{"": "must be a JSON object"}
		return r
	}
	p := switchboard.Problems{}
	l := &r.lead
	text := func(key string, raw json.RawMessage) (string, bool) {
		s, ok := scalar(raw)
		if !ok {
			p.Add(key, "must be text")
		}
		return s, ok
	}
	for key, v := range obj {
		switch key {
		case "name":
			l.Name, _ = text(key, v)
		case "phone_number", "phone":
			if s, _ := text(key, v); s != "" {
				if l.PhoneNumber != "" {
					p.Add("phone", "phone and phone_number are the same field; give one")
				}
				l.PhoneNumber, r.phoneField = s, key
			}
		case "phone_numbers":
			var list []string
			if err := json.Unmarshal(v, &list); err != nil {
				p.Add(key, "must be an array of phone numbers")
			}
			l.PhoneNumbers = append(l.PhoneNumbers, list...)
		case "time_zone":
			l.TimeZone, _ = text(key, v)
		case "external_id", "external_unique_id":
			if s, _ := text(key, v); s != "" {
				if l.ExternalID != "" {
					p.Add("external_unique_id", "external_unique_id and external_id are the same field; give one")
				}
				l.ExternalID = s
			}
		case "priority":
			var n float64
			if err := json.Unmarshal(v, &n); err != nil {
				s, _ := scalar(v)
				n, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
				if err != nil {
					p.Add(key, "must be a whole number")
					continue
				}
			}
			if n != float64(int(n)) {
				p.Add(key, "must be a whole number")
			}
			l.Priority = clampPriority(n)
		case "consent":
			s, _ := scalar(v)
			c, err := parseConsent(s)
			if err != nil {
				p.Add(key, err.Error())
			}
			l.Consent = c
		case "fields":
			var m map[string]json.RawMessage
			if err := json.Unmarshal(v, &m); err != nil {
				p.Add(key, "must be an object of text values")
				continue
			}
			for k, fv := range m {
				s, ok := scalar(fv)
				if !ok {
					p.Add("fields."+k, "must be text")
				}
				setField(l, k, s)
			}
		default:
			s, ok := scalar(v)
			if !ok {
				p.Add(key, "is not a lead field, and only text, numbers and booleans become custom fields (nest others in fields as text)")
				continue
			}
			setField(l, key, s)
		}
	}
	if len(p) > 0 {
		r.problems = p
	}
	return r
}

// scalar is a JSON text, number or boolean as text ("" for null).
func scalar(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", true
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err == nil
	case raw[0] == '{' || raw[0] == '[':
		return "", false
	}
	return string(raw), true
}

func setField(l *switchboard.Lead, k, v string) {
	if l.Fields == nil {
		l.Fields = map[string]string{}
	}
	l.Fields[k] = v
}

func clampPriority(n float64) int {
	// Out of range values stay out of range for normalize to refuse, without
	// overflowing an int.
	return int(max(min(n, MaxPriority+1), MinPriority-1))
}

// parseConsent reads true, false, yes, no, 1 or 0 in any case; empty is
// unknown (nil).
func parseConsent(s string) (*bool, error) {
	var v bool
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return nil, nil
	case "true", "yes", "y", "1":
		v = true
	case "false", "no", "n", "0":
		v = false
	default:
		return nil, errors.New("must be true, false, yes, no, 1, 0 or empty")
	}
	return &v, nil
}

// The CSV columns with a meaning; every other column is a custom field.
var csvColumns = map[string]string{
	"name": "name", "phone_number": "phone_number", "phone": "phone_number", "phone_numbers": "phone_numbers",
	"time_zone": "time_zone", "external_id": "external_id", "external_unique_id": "external_id",
	"priority": "priority", "consent": "consent",
	"phone_2": "phone_2", "phone_3": "phone_3", "phone_4": "phone_4", "phone_5": "phone_5",
}

// readCSV reads a CSV file whose header names the columns (in any case and
// order). A cell in a column without a header, past the header's width, is
// the row's error.
func readCSV(body []byte) ([]row, error) {
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff"))))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, bodyError("the CSV body is empty; it needs a header row naming its columns")
		}
		return nil, bodyError("read the CSV header: %v", err)
	}
	header = slices.Clone(header)
	role := make([]string, len(header)) // the column's meaning, "" for a custom field
	seen := map[string]bool{}
	hasPhone := false
	for i, h := range header {
		h = strings.TrimSpace(h)
		header[i] = h
		key := strings.ToLower(h)
		if h == "" {
			return nil, bodyError("CSV column %d has no name in the header row", i+1)
		}
		role[i] = csvColumns[key]
		name := key
		if role[i] != "" {
			name = role[i]
		}
		if seen[name] {
			return nil, bodyError("the CSV header names %s twice", switchboard.Echo(h))
		}
		seen[name] = true
		hasPhone = hasPhone || role[i] == "phone_number" || role[i] == "phone_numbers"
	}
	if !hasPhone {
		return nil, bodyError("the CSV header has no phone_number (or phone) column; its columns are %s",
			switchboard.Clip(strings.Join(header, ", "), 200))
	}
	rows := make([]row, 0, min(len(body)/32, MaxRows))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, bodyError("read the CSV body: %v", err)
		}
		if len(rows) == MaxRows {
			return nil, bodyError("an import holds at most %d leads", MaxRows)
		}
		rows = append(rows, csvRow(header, role, rec))
	}
	return rows, nil
}

func csvRow(header, role, rec []string) row {
	var r row
	l := &r.lead
	var p switchboard.Problems
	problem := func(field, why string) {
		if p == nil {
			p = switchboard.Problems{}
		}
		p.Add(field, why)
	}
	if len(rec) > len(header) {
		problem(fmt.Sprintf("column %d", len(header)+1), "has no column name in the header row")
	}
	var extra, extraNames []string
	for i, cell := range rec[:min(len(rec), len(header))] {
		cell = strings.TrimSpace(cell)
		switch role[i] {
		case "name":
			l.Name = cell
		case "phone_number":
			l.PhoneNumber, r.phoneField = cell, header[i]
		case "phone_numbers":
			for j, n := range strings.Split(cell, ";") {
				if n = strings.TrimSpace(n); n != "" {
					extra = append(extra, n)
					extraNames = append(extraNames, fmt.Sprintf("%s[%d]", header[i], j))
				}
			}
		case "phone_2", "phone_3", "phone_4", "phone_5":
			if cell != "" {
				extra = append(extra, cell)
				extraNames = append(extraNames, header[i])
			}
		case "time_zone":
			l.TimeZone = cell
		case "external_id":
			l.ExternalID = cell
		case "priority":
			if cell == "" {
				continue
			}
			n, err := strconv.Atoi(cell)
			if err != nil {
				problem(header[i], "must be a whole number")
			}
			l.Priority = clampPriority(float64(n))
		case "consent":
			c, err := parseConsent(cell)
			if err != nil {
				problem(header[i], err.Error())
			}
			l.Consent = c
		default:
			if cell != "" {
				setField(l, header[i], cell)
			}
		}
	}
	l.PhoneNumbers = extra
	r.numberFields = extraNames
	r.problems = p
	return r
}

// byRow orders row errors by row, then field.
func byRow(a, b switchboard.ImportRowError) int {
	return cmp.Or(cmp.Compare(a.Row, b.Row), cmp.Compare(a.Field, b.Field))
}
