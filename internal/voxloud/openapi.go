package voxloud

import (
	"net/http"
	"strconv"
	"strings"

	"switchboard/internal/openapi"
)

// OpenAPI returns the dialect's OpenAPI 3.1 document, generated from the
// route table and the types the handlers read and write.
func (a *API) OpenAPI() []byte {
	a.specOnce.Do(func() {
		a.spec = openapi.Encode(a.buildSpec())
	})
	return a.spec
}

func (a *API) buildSpec() openapi.Object {
	s := &openapi.Schemas{}
	errRef := s.Of(typeOf[ErrorBody](), false)
	errResp := func(why string) openapi.Object {
		return openapi.Object{"description": why, "content": openapi.Object{"application/json": openapi.Object{"schema": errRef}}}
	}
	paths := openapi.Object{}
	for _, rt := range a.routes {
		p, ok := paths[rt.Path].(openapi.Object)
		if !ok {
			p = openapi.Object{}
			paths[rt.Path] = p
		}
		op := openapi.Object{"summary": rt.Summary, "operationId": operationID(rt), "security": []openapi.Object{{"vovercAuth": []string{}}}}
		if rt.Scope != "" {
			op["x-required-scope"] = rt.Scope
		}
		var params []openapi.Object
		for _, part := range strings.Split(rt.Path, "/") {
			if strings.HasPrefix(part, "{") {
				params = append(params, openapi.Object{"name": strings.Trim(part, "{}"), "in": "path", "required": true, "schema": openapi.Object{"type": "string"}})
			}
		}
		for _, q := range rt.Query {
			params = append(params, openapi.Object{"name": q.Name, "in": "query", "description": q.Doc, "schema": openapi.Object{"type": q.Type}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Body != nil {
			op["requestBody"] = openapi.Object{"required": rt.Method != "POST" || !strings.HasSuffix(rt.Path, "telephony-events"),
				"content": openapi.Object{"application/json": openapi.Object{"schema": s.Of(rt.Body, false)}}}
		}
		ok200 := openapi.Object{"description": http.StatusText(rt.Status)}
		if rt.Result != nil {
			content := openapi.Object{"application/json": openapi.Object{"schema": s.Of(rt.Result, false)}}
			if rt.CSV {
				content[mediaCSV] = openapi.Object{"schema": openapi.Object{"type": "string", "description": "a header row, then one row per event: " + strings.Join(csvColumns, ",")}}
			}
			ok200["content"] = content
		}
		responses := openapi.Object{strconv.Itoa(rt.Status): ok200, "401": errResp("missing or unknown Voverc-Auth key"),
			"403": errResp("the key lacks the route's scope"), "406": errResp("Accept rules out every type the route answers"),
			"429": errResp("rate limit exceeded; see Retry-After"), "default": errResp("any other error")}
		if rt.Body != nil || len(rt.Query) > 0 {
			responses["400"] = errResp("malformed or invalid input; errors names each field")
		}
		if strings.Contains(rt.Path, "{") {
			responses["404"] = errResp("no such object in the caller's tenant")
		}
		op["responses"] = responses
		p[strings.ToLower(rt.Method)] = op
	}
	return openapi.Object{
		"openapi": "3.1.0",
		"info": openapi.Object{"title": "Switchboard: Voxloud API", "version": "1",
			"description": "Voxloud's developer API served by Switchboard. Authenticate with the Voverc-Auth header."},
		"paths": paths,
		"components": openapi.Object{
			"schemas":         s.Components(),
			"securitySchemes": openapi.Object{"vovercAuth": openapi.Object{"type": "apiKey", "in": "header", "name": "Voverc-Auth"}},
		},
	}
}

func operationID(rt *route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.Split(strings.TrimPrefix(strings.TrimPrefix(rt.Path, "/api/v1/"), "/api/v2/"), "/") {
		for _, w := range strings.FieldsFunc(strings.Trim(part, "{}"), func(r rune) bool { return r == '-' || r == '_' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}
