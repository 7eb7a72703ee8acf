package httpapi

import "reflect"

// Route describes one route of a dialect to checks that must cover every
// route, such as the test that walks them all with keys lacking each one's
// scope: a route added later is covered without anyone listing it.
type Route struct {
	// Method and Path are the route's mux pattern, e.g. GET /v1/users/{id}.
	Method, Path string
	// Scope is the scope a key needs; it is empty only on public and admin
	// routes.
	Scope string
	// Public routes answer without any key; Admin ones need the platform
	// operator's token rather than a tenant's key.
	Public, Admin bool
	// TenantKeys says tenant-wide keys may call the route; UserKeys that keys
	// bound to one user may, for that user's own objects only.
	TenantKeys, UserKeys bool
	// Body is the type of the request body the route reads; nil for none.
	Body reflect.Type
}
