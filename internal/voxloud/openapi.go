package voxloud

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
	errResp := func(why string) openapi.Object {
		return openapi.Object{"description": why, "content": httpapi.JSONContent(errRef)}
	}
	return httpapi.BuildDocument(a.table, httpapi.Spec[route]{
		Info: openapi.Object{"title": "Switchboard: Voxloud API", "version": "1",
			"description": "Voxloud's developer API served by Switchboard. Authenticate with the Voverc-Auth header."},
		Schemas: s,
		Components: openapi.Object{
			"securitySchemes": openapi.Object{"vovercAuth": openapi.Object{"type": "apiKey", "in": "header", "name": "Voverc-Auth"}},
		},
		Trim:      []string{"/api/v1/", "/api/v2/"},
		PathParam: func(string) openapi.Object { return openapi.Object{"type": "string"} },
		Operation: func(e *httpapi.Endpoint[route], op openapi.Object) {
			op["security"] = []openapi.Object{{"vovercAuth": []string{}}}
			if e.Method == "POST" && strings.HasSuffix(e.Path, "telephony-events") {
				op["requestBody"].(openapi.Object)["required"] = false // a query without a body lists everything
			}
			ok200 := openapi.Object{"description": http.StatusText(e.Status)}
			if e.Result != nil {
				content := httpapi.JSONContent(s.Of(e.Result, false))
				if e.X.CSV {
					content[mediaCSV] = openapi.Object{"schema": openapi.Object{"type": "string", "description": "a header row, then one row per event: " + strings.Join(csvColumns, ",")}}
				}
				ok200["content"] = content
			}
			responses := openapi.Object{strconv.Itoa(e.Status): ok200, "401": errResp("missing or unknown Voverc-Auth key"),
				"403": errResp("the key lacks the route's scope"), "406": errResp("Accept rules out every type the route answers"),
				"429": errResp("rate limit exceeded; see Retry-After"), "default": errResp("any other error")}
			if e.Body != nil || len(e.Query) > 0 {
				responses["400"] = errResp("malformed or invalid input; errors names each field")
			}
			if strings.Contains(e.Path, "{") {
				responses["404"] = errResp("no such object in the caller's tenant")
			}
			op["responses"] = responses
		},
	})
}
