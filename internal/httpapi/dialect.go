package httpapi

import (
	"net/http"
	"slices"

	"switchboard"
	"switchboard/internal/webhook"
)

// Dialect is one API dialect as the server is composed of them: the server
// mounts it, lets its credential style in, validates webhook subscriptions
// against its name and hands it the deliveries of its subscriptions. Adding a
// dialect is a package implementing it and one line where the server lists
// them.
type Dialect interface {
	http.Handler
	// Name is the dialect's name, which webhook subscriptions give to ask for
	// its payloads.
	Name() string
	// Prefixes are the path prefixes it serves, each ending in a slash.
	Prefixes() []string
	// KeyHeaders are the request headers its vendor sends a key in, besides
	// Authorization.
	KeyHeaders() []string
	// SecretPrefixes are the markers of the developer keys its vendor's
	// integrations expect, which a tenant may ask a new key to carry.
	SecretPrefixes() []string
	// Events maps its webhook event names to the core event types each is
	// made of; nil when its subscriptions name core types.
	Events() map[string][]string
	// Renderer renders its webhook payloads; nil for the native format.
	Renderer() webhook.Renderer
	// ErrorWriter renders the errors raised before its routes are reached
	// (panics, unreadable paths) in its envelope.
	ErrorWriter() ErrorWriter
	// Routes lists its routes, for checks that must cover them all.
	Routes() []Route
}

// Dialects is the list of dialects a server is composed of.
type Dialects []Dialect

// Names lists the dialects' names.
func (ds Dialects) Names() []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Name()
	}
	return out
}

// KeyHeaders lists every dialect's key headers, in the dialects' order.
func (ds Dialects) KeyHeaders() []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.KeyHeaders()...)
	}
	return slices.Compact(out)
}

// SecretPrefixes lists every dialect's key markers.
func (ds Dialects) SecretPrefixes() []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.SecretPrefixes()...)
	}
	return out
}

// Events gives each dialect with a vocabulary of its own its event names.
func (ds Dialects) Events() map[string]map[string][]string {
	out := map[string]map[string][]string{}
	for _, d := range ds {
		if ev := d.Events(); ev != nil {
			out[d.Name()] = ev
		}
	}
	return out
}

// WebhookDefaulter is a dialect whose subscriptions follow rules of their
// own: Voiso's turn the inactive rule on. Every API that makes a
// subscription one of the dialect's applies them, so the rule holds whichever
// API a tenant used.
type WebhookDefaulter interface {
	// WebhookDefaults sets the dialect's defaults on a subscription that
	// becomes one of its own (created, or moved from another dialect).
	WebhookDefaults(w *switchboard.Webhook)
}

// WebhookDefaults gives each dialect with rules for its subscriptions its
// WebhookDefaulter's method.
func (ds Dialects) WebhookDefaults() map[string]func(*switchboard.Webhook) {
	out := map[string]func(*switchboard.Webhook){}
	for _, d := range ds {
		if wd, ok := d.(WebhookDefaulter); ok {
			out[d.Name()] = wd.WebhookDefaults
		}
	}
	return out
}

// Renderers gives each dialect with payloads of its own its renderer.
func (ds Dialects) Renderers() map[string]webhook.Renderer {
	out := map[string]webhook.Renderer{}
	for _, d := range ds {
		if r := d.Renderer(); r != nil {
			out[d.Name()] = r
		}
	}
	return out
}

// Mount serves every dialect under its prefixes on mux, observed by obs.
func (ds Dialects) Mount(mux *http.ServeMux, obs *Observer) {
	for _, d := range ds {
		h := obs.Wrap(d.Name(), d, d.ErrorWriter())
		for _, p := range d.Prefixes() {
			mux.Handle(p, h)
		}
	}
}
