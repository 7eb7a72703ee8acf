package voiso

import (
	"switchboard/internal/httpapi"
	"switchboard/internal/webhook"
)

// Name is the dialect's name, which its webhook subscriptions carry.
const Name = "voiso"

var _ httpapi.Dialect = (*API)(nil)

// Name implements httpapi.Dialect.
func (a *API) Name() string { return Name }

// Prefixes implements httpapi.Dialect.
func (a *API) Prefixes() []string { return []string{prefix} }

// KeyHeaders implements httpapi.Dialect: Voiso sends its key only as
// Authorization: Bearer.
func (a *API) KeyHeaders() []string { return nil }

// SecretPrefixes implements httpapi.Dialect: Voiso keys look like any.
func (a *API) SecretPrefixes() []string { return nil }

// Events implements httpapi.Dialect.
func (a *API) Events() map[string][]string { return EventTypes() }

// Renderer implements httpapi.Dialect.
func (a *API) Renderer() webhook.Renderer { return &Renderer{API: a} }

// ErrorWriter implements httpapi.Dialect.
func (a *API) ErrorWriter() httpapi.ErrorWriter { return WriteError(a.opt.Log) }
