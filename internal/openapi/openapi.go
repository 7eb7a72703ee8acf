// Package openapi builds OpenAPI 3.1 schemas from Go types by reflection, so
// that each dialect's document is generated from the very types its handlers
// decode and encode and cannot drift from the wire.
package openapi

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Object is a JSON object of the document.
type Object = map[string]any

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// Schemas turns Go types into schemas and collects the named structs as
// components.
type Schemas struct {
	// Enums gives the allowed values of string types.
	Enums map[reflect.Type][]string
	// Custom gives the schema of types that marshal themselves (a number
	// accepted as a string too), which reflection cannot see.
	Custom map[reflect.Type]Object
	// Time overrides the schema of time.Time (a dialect may render times
	// as epoch numbers); nil gives a date-time string.
	Time       Object
	components Object
	// named is the type behind each component name, so that two types
	// whose names meet (listBody[Contact] and a ContactList type) get a
	// component each.
	named map[string]reflect.Type
}

// Components returns the schemas registered so far, by name.
func (s *Schemas) Components() Object {
	if s.components == nil {
		s.components = Object{}
	}
	return s.components
}

// Of returns the schema of t, registering named structs as components.
// strict marks request bodies, which refuse unknown fields.
func (s *Schemas) Of(t reflect.Type, strict bool) Object {
	if vals, ok := s.Enums[t]; ok {
		return Object{"type": "string", "enum": vals}
	}
	if o, ok := s.Custom[t]; ok {
		out := Object{}
		for k, v := range o {
			out[k] = v
		}
		return out
	}
	switch t {
	case timeType:
		if s.Time != nil {
			out := Object{}
			for k, v := range s.Time {
				out[k] = v
			}
			return out
		}
		return Object{"type": "string", "format": "date-time"}
	case rawType:
		return Object{"description": "any JSON value"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		inner := s.Of(t.Elem(), strict)
		if typ, ok := inner["type"].(string); ok {
			inner["type"] = []string{typ, "null"}
			return inner
		}
		return Object{"anyOf": []Object{inner, {"type": "null"}}}
	case reflect.Interface:
		return Object{"description": "any JSON value"}
	case reflect.Bool:
		return Object{"type": "boolean"}
	case reflect.Int, reflect.Int32:
		return Object{"type": "integer"}
	case reflect.Int64:
		return Object{"type": "integer", "format": "int64"}
	case reflect.Float64:
		return Object{"type": "number"}
	case reflect.String:
		return Object{"type": "string"}
	case reflect.Slice:
		return Object{"type": "array", "items": s.Of(t.Elem(), strict)}
	case reflect.Map:
		return Object{"type": "object", "additionalProperties": s.Of(t.Elem(), strict)}
	case reflect.Struct:
		comps := s.Components()
		name := s.name(t)
		if _, seen := comps[name]; !seen {
			comps[name] = Object{} // placeholder against recursion
			props := Object{}
			s.fields(t, props, strict)
			schema := Object{"type": "object", "properties": props}
			if strict {
				schema["additionalProperties"] = false
			}
			comps[name] = schema
		}
		return Object{"$ref": "#/components/schemas/" + name}
	}
	panic("openapi: no schema for " + t.String())
}

// fields adds t's JSON fields to props, flattening embedded structs the way
// encoding/json does.
func (s *Schemas) fields(t reflect.Type, props Object, strict bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			s.fields(f.Type, props, strict)
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		schema := s.Of(f.Type, strict)
		bounds(schema, f.Type, f.Tag)
		props[name] = schema
	}
}

// bounds shows a field's limit and range tags (`limit:"N"`, `range:"LO,HI"`,
// which request decoding enforces) as maxLength, maxItems, maxProperties,
// minimum and maximum.
func bounds(schema Object, t reflect.Type, tag reflect.StructTag) {
	if _, ref := schema["$ref"]; ref {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n, err := strconv.Atoi(tag.Get("limit")); err == nil {
		switch t.Kind() {
		case reflect.String:
			schema["maxLength"] = n
		case reflect.Slice, reflect.Array:
			schema["maxItems"] = n
		case reflect.Map:
			schema["maxProperties"] = n
		}
	}
	if lo, hi, ok := strings.Cut(tag.Get("range"), ","); ok {
		for key, v := range map[string]string{"minimum": lo, "maximum": hi} {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				schema[key] = n
			} else if f, err := strconv.ParseFloat(v, 64); err == nil {
				schema[key] = f
			}
		}
	}
}

// name is t's component name: Name(t), or, when another type has it
// already, Name(t) led by t's package name (SwitchboardContactList), and
// numbered past that.
func (s *Schemas) name(t reflect.Type) string {
	if s.named == nil {
		s.named = map[string]reflect.Type{}
	}
	base := Name(t)
	pkg := t.PkgPath()
	pkg = pkg[strings.LastIndex(pkg, "/")+1:]
	if pkg != "" {
		pkg = strings.ToUpper(pkg[:1]) + pkg[1:]
	}
	name := base
	for i := 1; ; i++ {
		if prev, taken := s.named[name]; !taken || prev == t {
			s.named[name] = t
			return name
		}
		name = pkg + base
		if i > 1 {
			name += strconv.Itoa(i)
		}
	}
}

// Name gives Go types readable, stable component names: listBody[switchboard.User]
// becomes UserList, userBody becomes UserBody.
func Name(t reflect.Type) string {
	name := t.Name()
	if i := strings.Index(name, "["); i >= 0 {
		inner := name[i+1 : len(name)-1]
		if j := strings.LastIndex(inner, "."); j >= 0 {
			inner = inner[j+1:]
		}
		return inner + "List"
	}
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// Encode renders a document as indented JSON with a final newline, the form
// the golden tests pin. Documents are built from Go types, so a failure to
// encode is a programming error and panics.
func Encode(doc Object) []byte {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic("openapi: the document does not encode: " + err.Error())
	}
	return append(b, '\n')
}
