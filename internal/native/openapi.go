package native

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"switchboard"
)

// The OpenAPI document is generated from the route table by reflection over the
// very types the handlers decode and encode. A golden test pins it, so any change
// to the wire shows up in review as a change to testdata/openapi.json.

var (
	timeType  = reflect.TypeFor[time.Time]()
	rawType   = reflect.TypeFor[json.RawMessage]()
	enumTypes = map[reflect.Type][]string{
		reflect.TypeFor[switchboard.Strategy](): strategyNames(),
		reflect.TypeFor[switchboard.Channel]():  {string(switchboard.ChannelVoice), string(switchboard.ChannelChat)},
		reflect.TypeFor[switchboard.Code](): {string(switchboard.CodeInvalid), string(switchboard.CodeNotFound),
			string(switchboard.CodeConflict), string(switchboard.CodeUnauthorized), string(switchboard.CodeForbidden),
			string(switchboard.CodeRateLimited), string(switchboard.CodeTooLarge), string(switchboard.CodeInternal),
			string(switchboard.CodeBadRequest), string(switchboard.CodeMethodNotAllowed)},
	}
)

func strategyNames() []string {
	out := make([]string, len(switchboard.Strategies))
	for i, s := range switchboard.Strategies {
		out[i] = string(s)
	}
	return out
}

func (a *API) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(a.OpenAPI())
}

// OpenAPI returns the OpenAPI 3.1 document of the API as indented JSON.
func (a *API) OpenAPI() []byte {
	a.specOnce.Do(func() {
		b, err := json.MarshalIndent(a.buildSpec(), "", "  ")
		if err != nil {
			panic("native: OpenAPI document does not encode: " + err.Error())
		}
		a.spec = append(b, '\n')
	})
	return a.spec
}

type object = map[string]any

// errorResponses are the shared error responses, by component name.
var errorResponses = map[string]string{
	"Unauthorized": "missing, unknown, expired or revoked credential",
	"Forbidden":    "the key lacks the required scope",
	"RateLimited":  "rate limit exceeded; see Retry-After",
	"BadRequest":   "unparsable body or parameter: bad JSON, unknown field or wrong type",
	"TooLarge":     "request body too large",
	"Invalid":      "validation failed; error.fields names each bad field",
	"NotFound":     "no such object in the caller's tenant",
	"Error":        "any other error; see error.code",
}

type specBuilder struct {
	schemas object
}

func (a *API) buildSpec() object {
	sb := &specBuilder{schemas: object{}}
	errSchema := sb.schemaOf(reflect.TypeFor[ErrorBody](), false)
	responses := object{}
	for name, why := range errorResponses {
		responses[name] = object{"description": why, "content": object{"application/json": object{"schema": errSchema}}}
	}
	paths := object{}
	for _, rt := range a.routes {
		p, ok := paths[rt.Path].(object)
		if !ok {
			p = object{}
			paths[rt.Path] = p
		}
		p[strings.ToLower(rt.Method)] = sb.operation(rt)
	}
	return object{
		"openapi": "3.1.0",
		"info": object{
			"title":       "Switchboard native API",
			"version":     "1",
			"description": "The native REST API of Switchboard. Every list takes limit (1-1000, default 50), an opaque cursor from metadata.next_cursor, or offset. Errors carry a stable code, a message, the offending fields and the request ID.",
		},
		"paths": paths,
		"components": object{
			"schemas":   sb.schemas,
			"responses": responses,
			"securitySchemes": object{
				"apiKey":     object{"type": "http", "scheme": "bearer", "description": "A tenant API key. Voverc-Auth, X-API-Key and HTTP Basic tenant-slug:key are accepted too."},
				"adminToken": object{"type": "http", "scheme": "bearer", "description": "The platform operator's SWITCHBOARD_ADMIN_TOKEN."},
			},
		},
	}
}

func (sb *specBuilder) operation(rt *route) object {
	op := object{
		"operationId": routeName(rt),
		"summary":     rt.Summary,
		"tags":        []string{rt.Tag},
	}
	if rt.Access == adminToken {
		op["security"] = []object{{"adminToken": []string{}}}
	} else {
		op["security"] = []object{{"apiKey": []string{}}}
		if rt.Scope != "" {
			op["x-required-scope"] = rt.Scope
		}
	}
	var params []object
	for _, part := range strings.Split(rt.Path, "/") {
		if strings.HasPrefix(part, "{") {
			name := strings.Trim(part, "{}")
			params = append(params, object{"name": name, "in": "path", "required": true,
				"schema": object{"type": "integer", "format": "int64", "minimum": 1}})
		}
	}
	query := rt.Query
	if rt.Paged {
		query = append([]param{{"limit", "integer", "page size, 1-1000 (default 50)"},
			{"cursor", "string", "opaque cursor from metadata.next_cursor of the previous page"},
			{"offset", "integer", "rows to skip, for offset-paged clients; ignored with cursor"}}, query...)
	}
	for _, q := range query {
		params = append(params, object{"name": q.Name, "in": "query", "description": q.Doc, "schema": object{"type": q.Type}})
	}
	if params != nil {
		op["parameters"] = params
	}
	if rt.Body != nil {
		op["requestBody"] = object{"required": true, "content": object{"application/json": object{"schema": sb.schemaOf(rt.Body, true)}}}
	}
	resp := object{"description": http.StatusText(rt.Status)}
	if rt.Stream {
		resp["content"] = object{"text/event-stream": object{"schema": object{"type": "string",
			"description": "id: the event's seq; event: its type; data: the event as JSON"}}}
	}
	if rt.Result != nil {
		resp["content"] = object{"application/json": object{"schema": sb.schemaOf(rt.Result, false)}}
	}
	ref := func(name string) object { return object{"$ref": "#/components/responses/" + name} }
	responses := object{strconv.Itoa(rt.Status): resp, "401": ref("Unauthorized"), "default": ref("Error")}
	if rt.Access == tenantKey {
		responses["403"] = ref("Forbidden")
		responses["429"] = ref("RateLimited")
	}
	if rt.Body != nil {
		responses["400"] = ref("BadRequest")
		responses["413"] = ref("TooLarge")
		responses["422"] = ref("Invalid")
	}
	if strings.Contains(rt.Path, "{") {
		responses["404"] = ref("NotFound")
	}
	op["responses"] = responses
	return op
}

// schemaOf returns the schema of t, registering named structs as components.
// strict marks request bodies, which refuse unknown fields.
func (sb *specBuilder) schemaOf(t reflect.Type, strict bool) object {
	if vals, ok := enumTypes[t]; ok {
		return object{"type": "string", "enum": vals}
	}
	switch t {
	case timeType:
		return object{"type": "string", "format": "date-time"}
	case rawType:
		return object{"description": "any JSON value"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		inner := sb.schemaOf(t.Elem(), strict)
		if typ, ok := inner["type"].(string); ok {
			inner["type"] = []string{typ, "null"}
			return inner
		}
		return object{"anyOf": []object{inner, {"type": "null"}}}
	case reflect.Bool:
		return object{"type": "boolean"}
	case reflect.Int, reflect.Int32:
		return object{"type": "integer"}
	case reflect.Int64:
		return object{"type": "integer", "format": "int64"}
	case reflect.Float64:
		return object{"type": "number"}
	case reflect.String:
		return object{"type": "string"}
	case reflect.Slice:
		return object{"type": "array", "items": sb.schemaOf(t.Elem(), strict)}
	case reflect.Map:
		return object{"type": "object", "additionalProperties": sb.schemaOf(t.Elem(), strict)}
	case reflect.Struct:
		name := schemaName(t)
		if _, seen := sb.schemas[name]; !seen {
			sb.schemas[name] = object{} // placeholder against recursion
			props := object{}
			sb.fields(t, props, strict)
			s := object{"type": "object", "properties": props}
			if strict {
				s["additionalProperties"] = false
			}
			sb.schemas[name] = s
		}
		return object{"$ref": "#/components/schemas/" + name}
	}
	panic("native: no OpenAPI schema for " + t.String())
}

// fields adds t's JSON fields to props, flattening embedded structs the way
// encoding/json does.
func (sb *specBuilder) fields(t reflect.Type, props object, strict bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			sb.fields(f.Type, props, strict)
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		props[name] = sb.schemaOf(f.Type, strict)
	}
}

// schemaName gives Go types readable, stable component names:
// listBody[switchboard.User] becomes UserList, userBody becomes UserBody.
func schemaName(t reflect.Type) string {
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
