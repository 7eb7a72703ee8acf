package native

import (
	"switchboard"
	"switchboard/internal/httpapi"
	"switchboard/internal/webhook"
)

var _ httpapi.Dialect = (*API)(nil)

// Name implements httpapi.Dialect.
func (a *API) Name() string { return switchboard.DialectNative }

// Prefixes implements httpapi.Dialect.
func (a *API) Prefixes() []string { return []string{"/v1/"} }

// KeyHeaders implements httpapi.Dialect: native keys come in Authorization.
func (a *API) KeyHeaders() []string { return nil }

// SecretPrefixes implements httpapi.Dialect: native keys carry the default.
func (a *API) SecretPrefixes() []string { return nil }

// Events implements httpapi.Dialect: native subscriptions name core types.
func (a *API) Events() map[string][]string { return nil }

// Renderer implements httpapi.Dialect: the dispatcher renders the native
// format itself.
func (a *API) Renderer() webhook.Renderer { return nil }

// ErrorWriter implements httpapi.Dialect.
func (a *API) ErrorWriter() httpapi.ErrorWriter { return WriteError(a.opt.Log) }
