package voice360

import (
	"switchboard/internal/httpapi"
	"switchboard/internal/webhook"
)

// Name is the dialect's name, which its webhook subscriptions carry.
const Name = "voice360"

// KeyHeader is the header Voice360 clients send their key in.
const KeyHeader = "X-API-Key"

// SecretPrefix marks the developer keys made for Voice360 integrations,
// which look like v360_dev_….
const SecretPrefix = "v360_dev_"

var _ httpapi.Dialect = (*API)(nil)

// Name implements httpapi.Dialect.
func (a *API) Name() string { return Name }

// Prefixes implements httpapi.Dialect.
func (a *API) Prefixes() []string { return []string{Base + "/"} }

// KeyHeaders implements httpapi.Dialect.
func (a *API) KeyHeaders() []string { return []string{KeyHeader} }

// SecretPrefixes implements httpapi.Dialect.
func (a *API) SecretPrefixes() []string { return []string{SecretPrefix} }

// Events implements httpapi.Dialect.
func (a *API) Events() map[string][]string { return EventTypes() }

// Renderer implements httpapi.Dialect.
func (a *API) Renderer() webhook.Renderer {
	return Renderer{PublicURL: a.opt.PublicURL}
}

// ErrorWriter implements httpapi.Dialect.
func (a *API) ErrorWriter() httpapi.ErrorWriter { return WriteError(a.opt.Log, a.now) }
