package voiso

import (
	"net/http"
	"strconv"
	"strings"

	"switchboard/internal/httpapi"
	"switchboard/internal/openapi"
)

// OpenAPI returns the dialect's OpenAPI 3.1 document, generated from the
// route table and the types the handlers read and write.
func (a *API) OpenAPI() []byte { return a.table.Document(a.buildSpec) }

func (a *API) buildSpec() openapi.Object {
	s := &openapi.Schemas{}
	errRef := s.Of(typeOf[ErrorBody](), false)
	validationRef := s.Of(typeOf[ValidationBody](), false)
	errResp := func(why string) openapi.Object {
		return openapi.Object{"description": why, "content": httpapi.JSONContent(errRef)}
	}
	validationResp := func(why string) openapi.Object {
		return openapi.Object{"description": why, "content": httpapi.JSONContent(validationRef)}
	}
	return httpapi.BuildDocument(a.table, httpapi.Spec[route]{
		Info: openapi.Object{"title": "Switchboard: Voiso API v4", "version": "4",
			"description": "Voiso's API v4 served by Switchboard. Send a tenant key as Authorization: Bearer <key>; each route " +
				"needs one Voiso scope (or the native scope covering it). Lists are {\"<resource>\": [...], \"metadata\": {\"total\": N}} " +
				"with limit (1-100) and offset; errors are {\"error\": text} or {\"errors\": {field: [message]}}."},
		Schemas: s,
		Components: openapi.Object{
			"securitySchemes": openapi.Object{"bearer": openapi.Object{"type": "http", "scheme": "bearer",
				"description": "a tenant-wide Switchboard API key holding the route's Voiso scope"}},
		},
		Trim: []string{"/api/v4"},
		PathParam: func(name string) openapi.Object {
			if strings.HasPrefix(name, "cdr") || strings.HasPrefix(name, "conversation") || strings.HasPrefix(name, "webhook_id") {
				return openapi.Object{"type": "string"}
			}
			if strings.HasPrefix(name, "webhook_failure") {
				return openapi.Object{"type": "string", "description": "24 hex digits, or the decimal id"}
			}
			return openapi.Object{"type": "integer"}
		},
		Operation: func(e *httpapi.Endpoint[route], op openapi.Object) {
			op["security"] = []openapi.Object{{"bearer": []string{}}}
			ok := openapi.Object{"description": http.StatusText(e.Status)}
			if e.Result != nil {
				ok["content"] = httpapi.JSONContent(s.Of(e.Result, false))
			}
			responses := openapi.Object{strconv.Itoa(e.Status): ok,
				"401":     errResp("Unauthorized: no key, or an unknown, revoked or expired one"),
				"403":     errResp("Forbidden: the key lacks the route's scope, or is a user key"),
				"404":     errResp("Not found: no such object in the key's tenant"),
				"429":     errResp("Too many requests: see Retry-After"),
				"default": errResp("Internal Server Error, Service Unavailable")}
			if e.Body != nil {
				responses["400"] = errResp("Bad Request: the body is not a JSON object")
				responses["422"] = validationResp("validation failed: each field with its messages")
			}
			if len(e.Query) > 0 {
				responses["400"] = errResp("Bad Request: a query value out of range (limit, offset, a filter)")
			}
			if e.Method == http.MethodPost && (strings.Contains(e.Path, "/campaigns/") || strings.HasSuffix(e.Path, "/retrigger")) {
				responses["409"] = validationResp("the object's state forbids the action")
			}
			op["responses"] = responses
		},
	})
}
