package httpapi

import (
	"net/http"
	"strconv"

	"switchboard"
)

// PathID parses the path parameter name as a positive integer id; anything
// else is a CodeBadRequest naming it.
func PathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, badParam(name, "must be a positive integer", v)
	}
	return id, nil
}

// QueryInt parses the optional integer query parameter name (0 when absent).
func QueryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badParam(name, "must be an integer", v)
	}
	return n, nil
}

// QueryBool parses the optional boolean query parameter name (false when
// absent).
func QueryBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badParam(name, "must be true or false", v)
	}
	return b, nil
}

// PageOptions reads a cursor-paged list's limit, cursor and offset
// (PageParams) and validates them.
func PageOptions(r *http.Request) (switchboard.ListOptions, error) {
	limit, err := QueryInt(r, "limit")
	if err != nil {
		return switchboard.ListOptions{}, err
	}
	offset, err := QueryInt(r, "offset")
	if err != nil {
		return switchboard.ListOptions{}, err
	}
	opt := switchboard.ListOptions{Limit: int(limit), Offset: int(offset), Cursor: r.URL.Query().Get("cursor")}
	if limit == 0 && r.URL.Query().Has("limit") {
		opt.Limit = -1 // an explicit limit=0 is an error, not the default
	}
	return opt, opt.Validate()
}

func badParam(name, rule, value string) error {
	return &switchboard.Error{Code: switchboard.CodeBadRequest, Message: name + " " + rule,
		Fields: map[string]string{name: rule + ", not " + switchboard.Echo(value)}}
}
