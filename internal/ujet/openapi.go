package ujet

import (
	"net/http"
	"reflect"
	"strconv"

	"switchboard/internal/httpapi"
	"switchboard/internal/openapi"
)

// OpenAPI returns the dialect's OpenAPI 3.1 document, generated from the
// route table and the types the handlers read and write.
func (a *API) OpenAPI() []byte { return a.table.Document(a.buildSpec) }

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

func (a *API) buildSpec() openapi.Object {
	s := &openapi.Schemas{Custom: map[reflect.Type]openapi.Object{
		typeOf[flexInt]():  {"type": []string{"integer", "string", "null"}, "description": "an integer, or a string of its digits"},
		typeOf[flexBool](): {"type": []string{"boolean", "string", "integer", "null"}, "description": "true/false, \"true\"/\"false\" or 1/0"},
	}}
	errRef := s.Of(typeOf[ErrorBody](), false)
	errResp := func(why string) openapi.Object {
		return openapi.Object{"description": why, "content": httpapi.JSONContent(errRef)}
	}
	return httpapi.BuildDocument(a.table, httpapi.Spec[route]{
		Info: openapi.Object{"title": "Switchboard: UJET / CCAI Platform Apps API", "version": "1",
			"description": "UJET's Apps API (CCAI Platform) served by Switchboard. Authenticate with HTTP Basic: the tenant's slug " +
				"as the user name and a company API key (switchboard key create --tenant SLUG) as the password. Lists are bare " +
				"JSON arrays paged with page and per (100 by default and at most) and carry the Total, Per-Page and Link " +
				"headers; errors are {\"message\": text}; times are ISO 8601 UTC with milliseconds."},
		Schemas: s,
		Components: openapi.Object{
			"securitySchemes": openapi.Object{"basic": openapi.Object{"type": "http", "scheme": "basic",
				"description": "user: the tenant's slug (UJET's subdomain); password: a company API key"}},
		},
		Trim: []string{"/apps/api/v1"},
		PathParam: func(name string) openapi.Object {
			if name == "revision" {
				return openapi.Object{"type": "string"}
			}
			return openapi.Object{"type": "integer"}
		},
		Operation: func(e *httpapi.Endpoint[route], op openapi.Object) {
			ok := openapi.Object{"description": http.StatusText(e.Status)}
			if e.Result != nil {
				ok["content"] = httpapi.JSONContent(s.Of(e.Result, false))
			}
			if e.Public {
				// The request proves itself (an upload's token): no key.
				op["security"] = []openapi.Object{}
				op["responses"] = openapi.Object{strconv.Itoa(e.Status): ok,
					"400":     errResp("the form is missing a part or a field is invalid"),
					"403":     errResp("the token has expired, was used, or is not genuine"),
					"413":     errResp("the file exceeds the size the upload URL allows"),
					"default": errResp("Internal Server Error, Service Unavailable")}
				return
			}
			op["security"] = []openapi.Object{{"basic": []string{}}}
			op["responses"] = openapi.Object{strconv.Itoa(e.Status): ok,
				"400":     errResp("a parameter is missing or invalid; the message says which"),
				"401":     errResp("no credential, or a wrong slug, key, or a revoked key"),
				"403":     errResp("the key lacks the route's scope, or is a user key"),
				"404":     errResp("Not Found: no such object in the tenant, or no such route"),
				"429":     errResp("rate limit exceeded: see Retry-After"),
				"default": errResp("Internal Server Error, Service Unavailable")}
		},
	})
}
