package switchboard

import (
	"strings"
	"time"
)

// Scopes a key can carry. A key holds either ScopeAll or a list of these; each
// API route names the one it needs. Later dialects add their vendors' scope names
// (e.g. Voiso's voice.call.manage) to this list.
const (
	ScopeAll            = "*"
	ScopeTenantRead     = "tenant.read"
	ScopeTenantManage   = "tenant.manage"
	ScopeUsersRead      = "users.read"
	ScopeUsersManage    = "users.manage"
	ScopeRoutingRead    = "routing.read"   // teams, skills, statuses, queues
	ScopeRoutingManage  = "routing.manage" // teams, skills, statuses, queues
	ScopeNumbersRead    = "numbers.read"
	ScopeNumbersManage  = "numbers.manage"
	ScopeKeysManage     = "keys.manage"
	ScopeWebhooksRead   = "webhooks.read"
	ScopeWebhooksManage = "webhooks.manage"
	ScopeEventsRead     = "events.read"
	ScopeCallsRead      = "calls.read"
	ScopeCallsManage    = "calls.manage"
	ScopeContactsRead   = "contacts.read"
	ScopeContactsManage = "contacts.manage"
	ScopeMessagesRead   = "messages.read"
	ScopeMessagesManage = "messages.manage"
)

// Scopes lists every scope name a key may be given.
var Scopes = []string{ScopeAll, ScopeTenantRead, ScopeTenantManage, ScopeUsersRead,
	ScopeUsersManage, ScopeRoutingRead, ScopeRoutingManage, ScopeNumbersRead,
	ScopeNumbersManage, ScopeKeysManage, ScopeWebhooksRead, ScopeWebhooksManage, ScopeEventsRead,
	ScopeCallsRead, ScopeCallsManage, ScopeContactsRead, ScopeContactsManage,
	ScopeMessagesRead, ScopeMessagesManage}

// APIKey is a credential for the REST APIs. Only a SHA-256 hash of the secret is
// stored; Prefix, the secret's first characters, finds the row without scanning
// and lets people tell their keys apart in lists.
type APIKey struct {
	ID       int64 `json:"id"`
	TenantID int64 `json:"tenant_id"`
	// UserID makes this a user key: actions taken with it are the user's own
	// (Voice360 "User API Key"); nil makes it a tenant-wide developer key.
	UserID *int64 `json:"user_id"`
	Name   string `json:"name"`
	// SecretPrefix is the marker the secret starts with: SecretPrefixDefault,
	// or SecretPrefixVoice360Dev for developer keys handed to Voice360
	// integrations, whose keys look like v360_dev_….
	SecretPrefix string     `json:"secret_prefix"`
	Prefix       string     `json:"prefix"`
	Hash         []byte     `json:"-"`
	Scopes       []string   `json:"scopes"`
	LastUsedAt   *time.Time `json:"last_used_at"`
	ExpiresAt    *time.Time `json:"expires_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
	CreatedAt    time.Time  `json:"created_at"`
}

// The markers a secret may start with.
const (
	SecretPrefixDefault     = "sbk_"
	SecretPrefixVoice360Dev = "v360_dev_"
)

// SecretPrefixes lists every secret marker, longest last.
var SecretPrefixes = []string{SecretPrefixDefault, SecretPrefixVoice360Dev}

// Allows reports whether the key carries scope.
func (k *APIKey) Allows(scope string) bool {
	for _, s := range k.Scopes {
		if s == ScopeAll || s == scope {
			return true
		}
	}
	return false
}

// Usable reports whether the key may authenticate a request at now.
func (k *APIKey) Usable(now time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}

// Validate reports every invalid field of k. An empty scope list means every
// scope, which is what a key created without scopes is documented to have.
func (k *APIKey) Validate() error {
	p := Problems{}
	k.Name = strings.TrimSpace(k.Name)
	checkName(p, "name", k.Name, false)
	switch k.SecretPrefix {
	case "":
		k.SecretPrefix = SecretPrefixDefault
	case SecretPrefixDefault:
	case SecretPrefixVoice360Dev:
		if k.UserID != nil {
			p.Add("secret_prefix", "v360_dev_ marks developer keys, which belong to no user")
		}
	default:
		p.Add("secret_prefix", "must be "+strings.Join(SecretPrefixes, " or "))
	}
	if len(k.Scopes) == 0 {
		k.Scopes = []string{ScopeAll}
	}
	for _, s := range k.Scopes {
		if !contains(Scopes, s) {
			p.Add("scopes", "unknown scope "+s+"; valid scopes are "+strings.Join(Scopes, ", "))
		}
	}
	return p.Err()
}
