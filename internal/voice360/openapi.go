package voice360

import (
	"reflect"
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

// envelopeSchema wraps a result schema in the Voice360 envelope.
func envelopeSchema(result openapi.Object) openapi.Object {
	return openapi.Object{"type": "object", "properties": openapi.Object{
		"result":    result,
		"error":     openapi.Object{"type": "boolean", "const": false},
		"message":   openapi.Object{"type": "string"},
		"timestamp": openapi.Object{"type": "string", "format": "date-time"},
	}}
}

func (a *API) buildSpec() openapi.Object {
	s := &openapi.Schemas{}
	errSchema := s.Of(reflect.TypeFor[errorEnvelope](), false)
	errResp := func(why string) openapi.Object {
		return openapi.Object{"description": why, "content": openapi.Object{"application/json": openapi.Object{"schema": errSchema}}}
	}
	paths := openapi.Object{}
	for _, rt := range a.routes {
		path := Base + "/{account_id}" + rt.Path
		p, ok := paths[path].(openapi.Object)
		if !ok {
			p = openapi.Object{}
			paths[path] = p
		}
		op := openapi.Object{"summary": rt.Summary, "operationId": operationID(rt)}
		if rt.Scope != "" {
			op["x-required-scope"] = rt.Scope
		}
		switch rt.Access {
		case developerKey:
			op["security"] = []openapi.Object{{"developerKey": []string{}}}
		case userKey:
			op["security"] = []openapi.Object{{"userKey": []string{}}}
		case anyKey:
			op["security"] = []openapi.Object{{"developerKey": []string{}}, {"userKey": []string{}}}
		case public:
			op["security"] = []openapi.Object{}
		}
		params := []openapi.Object{{"name": "account_id", "in": "path", "required": true, "schema": openapi.Object{"type": "integer"}}}
		if strings.Contains(rt.Path, "{id}") {
			params = append(params, openapi.Object{"name": "id", "in": "path", "required": true, "schema": openapi.Object{"type": "integer"}})
		}
		op["parameters"] = params
		if rt.Body != nil {
			op["requestBody"] = openapi.Object{"required": true, "content": openapi.Object{"application/json": openapi.Object{"schema": s.Of(rt.Body, false)}}}
		}
		result := openapi.Object{"description": "null"}
		if rt.Result != nil && rt.Result.Kind() != reflect.Interface {
			result = s.Of(rt.Result, false)
		}
		responses := openapi.Object{
			"200":     openapi.Object{"description": rt.Message, "content": openapi.Object{"application/json": openapi.Object{"schema": envelopeSchema(result)}}},
			"401":     errResp("AUTH_REQUIRED: no key (or public status off)"),
			"429":     errResp("RATE_LIMITED: see Retry-After"),
			"default": errResp("BAD_REQUEST, NOT_FOUND, INTERNAL_ERROR, SERVICE_UNAVAILABLE"),
		}
		if rt.Access != public {
			responses["403"] = errResp("AUTH_INVALID_KEY (unknown key) or AUTH_INVALID (wrong key type or account, or the key lacks the route's scope)")
		}
		op["responses"] = responses
		p[strings.ToLower(rt.Method)] = op
	}
	return openapi.Object{
		"openapi": "3.1.0",
		"info": openapi.Object{"title": "Switchboard: Voice360 API v3", "version": "3",
			"description": "Voice360's API v3 served by Switchboard. Send the key in X-API-Key. Every response is the envelope {result, error, message, timestamp}; errors add error_code and details. 1,000 requests a minute per key; X-RateLimit-Limit and X-RateLimit-Remaining on every response."},
		"servers": []openapi.Object{{"url": "/"}},
		"paths":   paths,
		"components": openapi.Object{
			"schemas": s.Components(),
			"securitySchemes": openapi.Object{
				"developerKey": openapi.Object{"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "A Developer API Key (account-wide; v360_dev_…)"},
				"userKey":      openapi.Object{"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "A User API Key (one user's own data)"},
			},
		},
	}
}

// errorEnvelope documents the error form of the envelope.
type errorEnvelope struct {
	Result    any            `json:"result"`
	Error     bool           `json:"error"`
	Message   string         `json:"message"`
	ErrorCode string         `json:"error_code"`
	Details   map[string]any `json:"details"`
	Timestamp string         `json:"timestamp"`
}

func operationID(rt *route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.Split(rt.Path, "/") {
		for _, w := range strings.FieldsFunc(strings.Trim(part, "{}"), func(r rune) bool { return r == '-' || r == '_' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}
