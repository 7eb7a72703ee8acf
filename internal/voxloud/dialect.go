package voxloud

import (
	"switchboard/internal/httpapi"
	"switchboard/internal/webhook"
)

// Name is the dialect's name, which its webhook subscriptions carry.
const Name = "voxloud"

// KeyHeader is the header Voxloud integrations send their key in.
const KeyHeader = "Voverc-Auth"

var _ httpapi.Dialect = (*API)(nil)

// Name implements httpapi.Dialect.
func (a *API) Name() string { return Name }

// Prefixes implements httpapi.Dialect.
func (a *API) Prefixes() []string { return []string{"/api/v1/", "/api/v2/"} }

// KeyHeaders implements httpapi.Dialect.
func (a *API) KeyHeaders() []string { return []string{KeyHeader} }

// SecretPrefixes implements httpapi.Dialect: Voxloud keys look like any.
func (a *API) SecretPrefixes() []string { return nil }

// Events implements httpapi.Dialect.
func (a *API) Events() map[string][]string { return EventTypes() }

// Renderer implements httpapi.Dialect.
func (a *API) Renderer() webhook.Renderer { return Renderer{API: a} }

// ErrorWriter implements httpapi.Dialect.
func (a *API) ErrorWriter() httpapi.ErrorWriter { return WriteError(a.opt.Log) }
