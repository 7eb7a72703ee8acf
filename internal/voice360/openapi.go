package voice360

import (
	"reflect"

	"switchboard/internal/httpapi"
	"switchboard/internal/openapi"
)

// OpenAPI returns the dialect's OpenAPI 3.1 document, generated from the
// route table and the types the handlers read and write.
func (a *API) OpenAPI() []byte { return a.table.Document(a.buildSpec) }

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
		return openapi.Object{"description": why, "content": httpapi.JSONContent(errSchema)}
	}
	return httpapi.BuildDocument(a.table, httpapi.Spec[route]{
		Info: openapi.Object{"title": "Switchboard: Voice360 API v3", "version": "3",
			"description": "Voice360's API v3 served by Switchboard. Send the key in X-API-Key. Every response is the envelope {result, error, message, timestamp}; errors add error_code and details. 1,000 requests a minute per key; X-RateLimit-Limit and X-RateLimit-Remaining on every response."},
		Servers: []openapi.Object{{"url": "/"}},
		Schemas: s,
		Components: openapi.Object{
			"securitySchemes": openapi.Object{
				"developerKey": openapi.Object{"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "A Developer API Key (account-wide; v360_dev_…)"},
				"userKey":      openapi.Object{"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "A User API Key (one user's own data)"},
			},
		},
		Trim:      []string{Base + "/{account_id}"},
		PathParam: func(string) openapi.Object { return openapi.Object{"type": "integer"} },
		Operation: func(e *httpapi.Endpoint[route], op openapi.Object) {
			switch e.X.Access {
			case developerKey:
				op["security"] = []openapi.Object{{"developerKey": []string{}}}
			case userKey:
				op["security"] = []openapi.Object{{"userKey": []string{}}}
			case anyKey:
				op["security"] = []openapi.Object{{"developerKey": []string{}}, {"userKey": []string{}}}
			case public:
				op["security"] = []openapi.Object{}
			}
			result := openapi.Object{"description": "null"}
			if e.Result != nil && e.Result.Kind() != reflect.Interface {
				result = s.Of(e.Result, false)
			}
			responses := openapi.Object{
				"200":     openapi.Object{"description": e.X.Message, "content": httpapi.JSONContent(envelopeSchema(result))},
				"401":     errResp("AUTH_REQUIRED: no key (or public status off)"),
				"429":     errResp("RATE_LIMITED: see Retry-After"),
				"default": errResp("BAD_REQUEST, NOT_FOUND, INTERNAL_ERROR, SERVICE_UNAVAILABLE"),
			}
			if e.X.Access != public {
				responses["403"] = errResp("AUTH_INVALID_KEY (unknown key) or AUTH_INVALID (wrong key type or account, or the key lacks the route's scope)")
			}
			op["responses"] = responses
		},
	})
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
