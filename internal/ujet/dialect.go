package ujet

import (
	"switchboard/internal/httpapi"
	"switchboard/internal/webhook"
)

// Name is the dialect's name, which its webhook subscriptions carry.
const Name = "ujet"

var _ httpapi.Dialect = (*API)(nil)

// Name implements httpapi.Dialect.
func (a *API) Name() string { return Name }

// Prefixes implements httpapi.Dialect.
func (a *API) Prefixes() []string { return []string{prefix} }

// KeyHeaders implements httpapi.Dialect: UJET sends its token only as the
// password of HTTP Basic, which every dialect accepts.
func (a *API) KeyHeaders() []string { return nil }

// SecretPrefixes implements httpapi.Dialect: UJET tokens look like any.
func (a *API) SecretPrefixes() []string { return nil }

// Events implements httpapi.Dialect.
func (a *API) Events() map[string][]string { return EventTypes() }

// Renderer implements httpapi.Dialect.
func (a *API) Renderer() webhook.Renderer { return a.renderer() }

// ErrorWriter implements httpapi.Dialect.
func (a *API) ErrorWriter() httpapi.ErrorWriter { return WriteError(a.opt.Log) }
