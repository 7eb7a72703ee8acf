package httpapi

import (
	"strings"

	"switchboard/internal/openapi"
)

// Spec is what a dialect's OpenAPI document says beyond its route table: the
// document's info and components, and the dialect's own parts of each
// operation (security, responses).
type Spec[X any] struct {
	Info openapi.Object
	// Servers is the document's servers list; nil leaves it out.
	Servers []openapi.Object
	// Schemas collects the component schemas; the dialect may register its
	// error envelope in it first.
	Schemas *openapi.Schemas
	// Components are the document's components other than the schemas.
	Components openapi.Object
	// Trim lists path prefixes that operation ids leave out.
	Trim []string
	// PathParam is the schema of the path parameter name.
	PathParam func(name string) openapi.Object
	// StrictBodies documents request bodies as closed (no unknown fields),
	// as the strict decoder reads them.
	StrictBodies bool
	// Operation adds the dialect's own parts to op.
	Operation func(e *Endpoint[X], op openapi.Object)
}

// idempotencyParam documents the Idempotency-Key header on the routes that
// honour it.
var idempotencyParam = openapi.Object{"name": IdempotencyHeader, "in": "header", "required": false,
	"schema": openapi.Object{"type": "string", "minLength": 1, "maxLength": maxIdempotencyKey},
	"description": "1-255 printable ASCII characters chosen by the client. The first answer (other than a 5xx) is stored " +
		"for 24 hours with the key and the caller's credential, and a retry with the same key and the same request " +
		"gets it again with Idempotent-Replayed: true instead of acting twice. The same key with another request is " +
		"answered 422, a retry while the first request is still running 409."}

// BuildDocument returns the OpenAPI 3.1 document of t's routes.
func BuildDocument[C, X any](t *Table[C, X], s Spec[X]) openapi.Object {
	if s.Schemas == nil {
		s.Schemas = &openapi.Schemas{}
	}
	paths := openapi.Object{}
	replays := false
	for _, e := range t.endpoints {
		p, ok := paths[e.Path].(openapi.Object)
		if !ok {
			p = openapi.Object{}
			paths[e.Path] = p
		}
		op := openapi.Object{"operationId": OperationID(e.Method, e.Path, s.Trim...), "summary": e.Summary}
		if e.Doc != "" {
			op["description"] = e.Doc
		}
		if e.Tag != "" {
			op["tags"] = []string{e.Tag}
		}
		if e.Scope != "" {
			op["x-required-scope"] = e.Scope
		}
		var params []openapi.Object
		for _, part := range strings.Split(e.Path, "/") {
			if strings.HasPrefix(part, "{") {
				name := strings.Trim(part, "{}")
				params = append(params, openapi.Object{"name": name, "in": "path", "required": true, "schema": s.PathParam(name)})
			}
		}
		for _, q := range e.Query {
			params = append(params, openapi.Object{"name": q.Name, "in": "query", "description": q.Doc, "schema": openapi.Object{"type": q.Type}})
		}
		if e.Replays() {
			params = append(params, openapi.Object{"$ref": "#/components/parameters/IdempotencyKey"})
			replays = true
		}
		if params != nil {
			op["parameters"] = params
		}
		if e.Body != nil {
			op["requestBody"] = openapi.Object{"required": true, "content": JSONContent(s.Schemas.Of(e.Body, s.StrictBodies))}
		}
		if s.Operation != nil {
			s.Operation(e, op)
		}
		p[strings.ToLower(e.Method)] = op
	}
	components := openapi.Object{"schemas": s.Schemas.Components()}
	for k, v := range s.Components {
		components[k] = v
	}
	if replays {
		components["parameters"] = openapi.Object{"IdempotencyKey": idempotencyParam}
	}
	doc := openapi.Object{"openapi": "3.1.0", "info": s.Info, "paths": paths, "components": components}
	if s.Servers != nil {
		doc["servers"] = s.Servers
	}
	return doc
}

// JSONContent is an OpenAPI content map of one JSON schema.
func JSONContent(schema openapi.Object) openapi.Object {
	return openapi.Object{"application/json": openapi.Object{"schema": schema}}
}

// OperationID names an operation after its method and path, less the first of
// trim that prefixes it: GET /v1/users/{id} is getUsersId.
func OperationID(method, path string, trim ...string) string {
	for _, p := range trim {
		if strings.HasPrefix(path, p) {
			path = strings.TrimPrefix(path, p)
			break
		}
	}
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.Split(path, "/") {
		for _, w := range strings.FieldsFunc(strings.Trim(part, "{}"), func(r rune) bool { return r == '-' || r == '_' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}
