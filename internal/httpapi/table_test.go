package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"switchboard"
	"switchboard/internal/httpapi"
)

type kitCaller struct{}

type boundedBody struct {
	N int `json:"n" range:"0,10"`
}

type unboundedBody struct {
	N int `json:"n"`
}

func kitTable() *httpapi.Table[kitCaller, struct{}] {
	return &httpapi.Table[kitCaller, struct{}]{
		Admit: func(http.ResponseWriter, *http.Request, *httpapi.Endpoint[struct{}]) (kitCaller, error) {
			return kitCaller{}, nil
		},
		Errors: func(w http.ResponseWriter, r *http.Request, err error) {
			httpapi.WriteJSON(w, map[switchboard.Code]int{switchboard.CodeNotFound: 404, switchboard.CodeMethodNotAllowed: 405}[switchboard.ErrorCode(err)],
				map[string]string{"message": switchboard.ErrorMessage(err)})
		},
		NotFound: "no route %s %s",
	}
}

// TestTableRefusesUndocumentedRoutes: a keyed route without a scope, and a
// body with a number no range bounds, stop the server from starting, so
// that no route escapes the scope checks or the bounds the OpenAPI document
// shows.
func TestTableRefusesUndocumentedRoutes(t *testing.T) {
	ok := func(context.Context, kitCaller, *boundedBody) (httpapi.NoContent, error) {
		return httpapi.NoContent{}, nil
	}
	bad := func(context.Context, kitCaller, *unboundedBody) (httpapi.NoContent, error) {
		return httpapi.NoContent{}, nil
	}
	for name, register := range map[string]func(){
		"no scope": func() {
			httpapi.Handle(kitTable(), httpapi.Endpoint[struct{}]{Route: httpapi.Route{Method: "POST", Path: "/x"}}, ok)
		},
		"unbounded": func() {
			httpapi.Handle(kitTable(), httpapi.Endpoint[struct{}]{Route: httpapi.Route{Method: "POST", Path: "/x", Scope: "s"}}, bad)
		},
		"public scoped": func() {
			httpapi.Handle(kitTable(), httpapi.Endpoint[struct{}]{Route: httpapi.Route{Method: "POST", Path: "/x", Scope: "s", Public: true}}, ok)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: the route was registered", name)
				}
			}()
			register()
		}()
	}
	httpapi.Handle(kitTable(), httpapi.Endpoint[struct{}]{Route: httpapi.Route{Method: "POST", Path: "/x", Scope: "s"}}, ok)
}

// TestTableNoRoute: a path served under other methods answers 405 with Allow,
// any other 404, both through the dialect's error writer.
func TestTableNoRoute(t *testing.T) {
	tb := kitTable()
	get := func(context.Context, kitCaller, *httpapi.NoBody) (map[string]int, error) {
		return map[string]int{"n": 1}, nil
	}
	httpapi.Handle(tb, httpapi.Endpoint[struct{}]{Route: httpapi.Route{Method: "GET", Path: "/api/things/{id}", Scope: "s"}}, get)
	httpapi.Handle(tb, httpapi.Endpoint[struct{}]{Route: httpapi.Route{Method: "DELETE", Path: "/api/things/{id}", Scope: "s"}}, get)
	tb.Mount("/api/")
	for _, c := range []struct {
		method, path string
		status       int
		allow, msg   string
	}{
		{"GET", "/api/things/7", 200, "", ""},
		{"PUT", "/api/things/7", 405, "GET, DELETE", "PUT is not allowed on /api/things/7; use GET, DELETE"},
		{"GET", "/api/nothing", 404, "", "no route GET /api/nothing"},
	} {
		rec := httptest.NewRecorder()
		tb.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		var v map[string]any
		json.Unmarshal(rec.Body.Bytes(), &v)
		if rec.Code != c.status || rec.Header().Get("Allow") != c.allow || (c.msg != "" && v["message"] != c.msg) {
			t.Errorf("%s %s = %d Allow %q %s, want %d Allow %q %q", c.method, c.path, rec.Code, rec.Header().Get("Allow"),
				strings.TrimSpace(rec.Body.String()), c.status, c.allow, c.msg)
		}
	}
}

// TestTableRouteBodyLimit: a route with its own MaxBody reads a body larger
// than the server's limit, up to its own; every other route keeps the
// server's.
func TestTableRouteBodyLimit(t *testing.T) {
	tb := kitTable()
	read := func(w http.ResponseWriter, r *http.Request, _ kitCaller) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		fmt.Fprint(w, len(b))
	}
	tb.HandleRaw(&httpapi.Endpoint[struct{}]{Route: httpapi.Route{Method: "POST", Path: "/small", Scope: "s"}}, read)
	tb.HandleRaw(&httpapi.Endpoint[struct{}]{Route: httpapi.Route{Method: "POST", Path: "/bulk", Scope: "s"}, MaxBody: 4096}, read)
	obs := &httpapi.Observer{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBody: 1024}
	srv := httptest.NewServer(obs.Wrap("kit", tb, tb.Errors))
	defer srv.Close()
	for _, tt := range []struct {
		path   string
		size   int
		status int
	}{
		{"/small", 1024, 200}, {"/small", 1025, 413}, {"/bulk", 4096, 200}, {"/bulk", 4097, 413},
	} {
		res, err := http.Post(srv.URL+tt.path, "text/plain", strings.NewReader(strings.Repeat("x", tt.size)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.status || tt.status == 200 && string(body) != fmt.Sprint(tt.size) {
			t.Errorf("POST %s with %d bytes: %d %s, want %d", tt.path, tt.size, res.StatusCode, body, tt.status)
		}
	}
}
