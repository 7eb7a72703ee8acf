package native

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/openapi"
)

// The OpenAPI document is generated from the route table by reflection over the
// very types the handlers decode and encode. A golden test pins it, so any change
// to the wire shows up in review as a change to testdata/openapi.json.

var (
	enumTypes = map[reflect.Type][]string{
		reflect.TypeFor[switchboard.Strategy](): strategyNames(),
		reflect.TypeFor[switchboard.Channel]():  {string(switchboard.ChannelVoice), string(switchboard.ChannelChat)},
		reflect.TypeFor[switchboard.Code](): {string(switchboard.CodeInvalid), string(switchboard.CodeNotFound),
			string(switchboard.CodeConflict), string(switchboard.CodeUnauthorized), string(switchboard.CodeForbidden),
			string(switchboard.CodeRateLimited), string(switchboard.CodeTooLarge), string(switchboard.CodeInternal),
			string(switchboard.CodeBadRequest), string(switchboard.CodeMethodNotAllowed)},
		reflect.TypeFor[switchboard.CampaignMode](): {string(switchboard.ModePreview), string(switchboard.ModeProgressive),
			string(switchboard.ModePredictive)},
		reflect.TypeFor[switchboard.CampaignStatus](): {string(switchboard.CampaignCreated), string(switchboard.CampaignStarted),
			string(switchboard.CampaignPaused), string(switchboard.CampaignStopped), string(switchboard.CampaignFinished)},
		reflect.TypeFor[switchboard.LeadStatus]():         names(switchboard.LeadStatuses),
		reflect.TypeFor[switchboard.ConversationStatus](): names(conversationStatuses),
		reflect.TypeFor[switchboard.MessageKind](): names([]switchboard.MessageKind{switchboard.KindText, switchboard.KindPhoto,
			switchboard.KindVideo, switchboard.KindFile, switchboard.KindTemplate, switchboard.KindNote, switchboard.KindActivity}),
		reflect.TypeFor[switchboard.ReceiptStatus](): names([]switchboard.ReceiptStatus{switchboard.ReceiptQueued, switchboard.ReceiptSent,
			switchboard.ReceiptDelivered, switchboard.ReceiptRead, switchboard.ReceiptFailed, switchboard.ReceiptReceived}),
		reflect.TypeFor[switchboard.DialOutcome](): names([]switchboard.DialOutcome{switchboard.DialConnected,
			switchboard.DialAbandoned, switchboard.DialMachine, switchboard.DialNoAnswer, switchboard.DialBusy, switchboard.DialInvalid,
			switchboard.DialFailed, switchboard.DialHungUp, switchboard.DialBlocked, switchboard.DialSkipped, switchboard.DialInterrupt}),
	}
)

// names lists string values as strings.
func names[S ~string](vals []S) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

func strategyNames() []string {
	out := make([]string, len(switchboard.Strategies))
	for i, s := range switchboard.Strategies {
		out[i] = string(s)
	}
	return out
}

// OpenAPI returns the OpenAPI 3.1 document of the API as indented JSON.
func (a *API) OpenAPI() []byte { return a.table.Document(a.buildSpec) }

type object = openapi.Object

// errorResponses are the shared error responses, by component name.
var errorResponses = map[string]string{
	"Unauthorized":       "missing, unknown, expired or revoked credential",
	"Forbidden":          "the key lacks the required scope",
	"RateLimited":        "rate limit exceeded; see Retry-After",
	"BadRequest":         "unparsable body or parameter: bad JSON, unknown field or wrong type",
	"TooLarge":           "request body too large",
	"Invalid":            "validation failed; error.fields names each bad field",
	"NotFound":           "no such object in the caller's tenant",
	"PreconditionFailed": "If-Match names none of the object's current ETags: it changed since it was read",
	"Error":              "any other error; see error.code",
}

func (a *API) buildSpec() object {
	schemas := &openapi.Schemas{Enums: enumTypes}
	errSchema := schemas.Of(reflect.TypeFor[ErrorBody](), false)
	responses := object{}
	for name, why := range errorResponses {
		responses[name] = object{"description": why, "content": httpapi.JSONContent(errSchema)}
	}
	doc := httpapi.BuildDocument(a.table, httpapi.Spec[route]{
		Info: object{
			"title":       "Switchboard native API",
			"version":     "1",
			"description": "The native REST API of Switchboard. Every list takes limit (1-1000, default 50), an opaque cursor from metadata.next_cursor, or offset. Errors carry a stable code, a message, the offending fields and the request ID.",
		},
		Schemas: schemas,
		Components: object{
			"responses": responses,
			"securitySchemes": object{
				"apiKey":     object{"type": "http", "scheme": "bearer", "description": "A tenant API key. Voverc-Auth, X-API-Key and HTTP Basic tenant-slug:key are accepted too."},
				"adminToken": object{"type": "http", "scheme": "bearer", "description": "The platform operator's SWITCHBOARD_ADMIN_TOKEN."},
				"endUserToken": object{"type": "http", "scheme": "bearer", "description": "A web-chat end user's token, from the answer that " +
					"started the conversation. Routes a browser cannot send headers to (the event stream, attachment content) also take it as ?token=."},
			},
		},
		Trim:         []string{"/v1/"},
		PathParam:    pathParam,
		StrictBodies: true,
		Operation:    func(e *httpapi.Endpoint[route], op object) { operation(e, op, schemas) },
	})
	eventPayloads(schemas)
	return doc
}

// eventPayloads documents the payload of an event: a versioned object, one
// of the payload types for calls, presence and messages, else the object
// the event is about as this API shows it, with "v".
func eventPayloads(schemas *openapi.Schemas) {
	ev, ok := schemas.Components()["Event"].(object)
	if !ok {
		return
	}
	var of []object
	for _, t := range []reflect.Type{reflect.TypeFor[switchboard.CallEventPayload](), reflect.TypeFor[switchboard.PresenceEventPayload](),
		reflect.TypeFor[switchboard.MessageEventPayload](), reflect.TypeFor[switchboard.ConversationEventPayload](),
		reflect.TypeFor[switchboard.ConversationMessagePayload](), reflect.TypeFor[switchboard.ConsentEventPayload]()} {
		of = append(of, schemas.Of(t, false))
	}
	of = append(of, object{"type": "object", "required": []string{"v"}, "properties": object{"v": object{"type": "integer"}},
		"description": "the object the event is about (subject_type), as this API shows it, with v"})
	ev["properties"].(object)["payload"] = object{"anyOf": of, "description": fmt.Sprintf("What happened, recorded when it "+
		"happened and never re-read: a JSON object whose v is its version (%d today). call.* events carry a CallEventPayload, "+
		"agent.status_changed a PresenceEventPayload, sms.* a MessageEventPayload, conversation.* a ConversationEventPayload, "+
		"message.* a ConversationMessagePayload, consent.* a ConsentEventPayload; the others the object they are about.",
		switchboard.EventPayloadVersion)}
}

// pathParam is the schema of a path parameter: ids are integers; numbers
// (E.164), UUIDs and tokens are strings.
func pathParam(name string) object {
	switch name {
	case "number":
		return object{"type": "string", "description": "an E.164 number such as +14155550100"}
	case "uuid", "profile_uuid", "token":
		return object{"type": "string"}
	}
	return object{"type": "integer", "format": "int64", "minimum": 1}
}

// operation adds the native parts of an operation: security, ETag headers and
// the responses.
func operation(e *httpapi.Endpoint[route], op object, schemas *openapi.Schemas) {
	rt := &e.X
	switch {
	case e.Admin:
		op["security"] = []object{{"adminToken": []string{}}}
	case e.Public && strings.HasPrefix(rt.Path, "/v1/webchat/conversations/"):
		op["security"] = []object{{"endUserToken": []string{}}}
	case e.Public:
		op["security"] = []object{} // the path's token, or nothing, is the credential
	default:
		op["security"] = []object{{"apiKey": []string{}}}
	}
	params, _ := op["parameters"].([]object)
	if rt.etag && rt.Method == http.MethodPatch {
		params = append(params, object{"name": "If-Match", "in": "header", "schema": object{"type": "string"},
			"description": "apply the change only if the object still has this ETag (from a GET or an earlier PATCH); otherwise 412"})
	}
	if rt.etag && rt.Method == http.MethodGet {
		params = append(params, object{"name": "If-None-Match", "in": "header", "schema": object{"type": "string"},
			"description": "answer 304 Not Modified if the object still has this ETag"})
	}
	if params != nil {
		op["parameters"] = params
	}
	resp := object{"description": http.StatusText(e.Status)}
	if rt.Stream {
		resp["content"] = object{"text/event-stream": object{"schema": object{"type": "string",
			"description": "id: the event's seq; event: its type; data: the event as JSON"}}}
	}
	if e.Result != nil {
		resp["content"] = httpapi.JSONContent(schemas.Of(e.Result, false))
	}
	if rt.Binary {
		resp["content"] = object{"*/*": object{"schema": object{"type": "string", "format": "binary"}}}
	}
	if rt.RawBody {
		op["requestBody"] = object{"required": true, "content": object{"*/*": object{"schema": object{"type": "string", "format": "binary"}}}}
	}
	if rt.CSV {
		csv := object{"schema": object{"type": "string", "description": "CSV with a header row naming the columns"}}
		if rt.Method == http.MethodGet {
			content, _ := resp["content"].(object)
			if content == nil {
				content = object{}
				resp["content"] = content
			}
			content["text/csv"] = csv
		} else if body, ok := op["requestBody"].(object); ok {
			body["content"].(object)["text/csv"] = csv
		}
	}
	if rt.etag {
		resp["headers"] = object{"ETag": object{"description": "the object's strong entity tag, a hash of its JSON form", "schema": object{"type": "string"}}}
	}
	ref := func(name string) object { return object{"$ref": "#/components/responses/" + name} }
	responses := object{strconv.Itoa(e.Status): resp, "401": ref("Unauthorized"), "default": ref("Error")}
	if !e.Admin {
		responses["403"] = ref("Forbidden")
		responses["429"] = ref("RateLimited")
	}
	if e.Body != nil {
		responses["400"] = ref("BadRequest")
		responses["413"] = ref("TooLarge")
		responses["422"] = ref("Invalid")
	}
	if strings.Contains(rt.Path, "{") {
		responses["404"] = ref("NotFound")
	}
	if rt.etag && rt.Method == http.MethodPatch {
		responses["412"] = ref("PreconditionFailed")
	}
	if rt.etag && rt.Method == http.MethodGet {
		responses["304"] = object{"description": "Not Modified: the object still has the ETag of If-None-Match"}
	}
	op["responses"] = responses
}
