package switchboard

import (
	"regexp"
	"slices"
	"strings"
	"time"
)

// Scopes a key can carry. A key holds either ScopeAll or a list of these; each
// API route names the one it needs. Vendor dialects add their vendors' scope
// names (Voiso's voice.call.manage, …) so that an administrator gives an
// integration the names its vendor's documents use; each of those is covered by
// a broader native scope (ScopeCovers).
const (
	ScopeAll            = "*"
	ScopeTenantRead     = "tenant.read"
	ScopeTenantManage   = "tenant.manage"
	ScopeUsersRead      = "users.read"
	ScopeUsersManage    = "users.manage"
	ScopeRoutingRead    = "routing.read"   // teams, skills, statuses, queues, IVR menus
	ScopeRoutingManage  = "routing.manage" // teams, skills, statuses, queues, IVR menus
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
	// Outbound campaigns, their leads, contact lists, imports and ledger.
	ScopeCampaignsRead   = "campaigns.read"
	ScopeCampaignsManage = "campaigns.manage"
	// The prepaid balance, its ledger and the rate table. Voiso's
	// billing.balance.read is the read scope under its vendor's name.
	ScopeBillingRead   = "billing.read"
	ScopeBillingManage = "billing.manage"
)

// Voiso API v4's scope names: each admits the Voiso routes its name says and is
// covered by the native scope ScopeCovers names.
const (
	ScopeVoiceCallManage              = "voice.call.manage"
	ScopeReportingCDRsRead            = "reporting.cdrs.read"
	ScopeReportingCDREventsRead       = "reporting.cdr_events.read"
	ScopeReportingSpeechAnalyticsRead = "reporting.speech_analytics.read"
	ScopeMessagingConversationsRead   = "messaging.conversations.read"
	ScopeMessagingChannelProfilesRead = "messaging.channel_profiles.read"
	ScopeMessagingCannedMessagesRead  = "messaging.canned_messages.read"
	ScopeMessagingTemplatesRead       = "messaging.whatsapp_templates.read"
	ScopeMessagingSMSManage           = "messaging.sms.manage"
	ScopeRoutingQueuesRead            = "routing.queues.read"
	ScopeRoutingSkillsRead            = "routing.skills.read"
	ScopeUsersTeamsRead               = "users.teams.read"
	ScopeTasksWebhooksRead            = "tasks.webhooks.read"
	ScopeTasksWebhooksManage          = "tasks.webhooks.manage"
	ScopeBillingBalanceRead           = "billing.balance.read"
)

// ScopeCovers maps each narrow vendor scope to the native scope that also
// grants it: a key holding calls.manage may start a Voiso call without also
// holding voice.call.manage, but a voice.call.manage key reaches nothing else.
var ScopeCovers = map[string]string{
	ScopeVoiceCallManage:              ScopeCallsManage,
	ScopeReportingCDRsRead:            ScopeCallsRead,
	ScopeReportingCDREventsRead:       ScopeCallsRead,
	ScopeReportingSpeechAnalyticsRead: ScopeCallsRead,
	ScopeMessagingConversationsRead:   ScopeMessagesRead,
	ScopeMessagingChannelProfilesRead: ScopeMessagesRead,
	ScopeMessagingCannedMessagesRead:  ScopeMessagesRead,
	ScopeMessagingTemplatesRead:       ScopeMessagesRead,
	ScopeMessagingSMSManage:           ScopeMessagesManage,
	ScopeRoutingQueuesRead:            ScopeRoutingRead,
	ScopeRoutingSkillsRead:            ScopeRoutingRead,
	ScopeUsersTeamsRead:               ScopeRoutingRead,
	ScopeTasksWebhooksRead:            ScopeWebhooksRead,
	ScopeTasksWebhooksManage:          ScopeWebhooksManage,
	ScopeBillingBalanceRead:           ScopeBillingRead,
}

// Scopes lists every scope name a key may be given.
var Scopes = []string{ScopeAll, ScopeTenantRead, ScopeTenantManage, ScopeUsersRead,
	ScopeUsersManage, ScopeRoutingRead, ScopeRoutingManage, ScopeNumbersRead,
	ScopeNumbersManage, ScopeKeysManage, ScopeWebhooksRead, ScopeWebhooksManage, ScopeEventsRead,
	ScopeCallsRead, ScopeCallsManage, ScopeContactsRead, ScopeContactsManage,
	ScopeMessagesRead, ScopeMessagesManage, ScopeCampaignsRead, ScopeCampaignsManage,
	ScopeBillingRead, ScopeBillingManage,
	ScopeVoiceCallManage, ScopeReportingCDRsRead, ScopeReportingCDREventsRead,
	ScopeReportingSpeechAnalyticsRead, ScopeMessagingConversationsRead,
	ScopeMessagingChannelProfilesRead, ScopeMessagingCannedMessagesRead,
	ScopeMessagingTemplatesRead, ScopeMessagingSMSManage, ScopeRoutingQueuesRead,
	ScopeRoutingSkillsRead, ScopeUsersTeamsRead, ScopeTasksWebhooksRead,
	ScopeTasksWebhooksManage, ScopeBillingBalanceRead}

// UserKeyScopes are the only scopes a user key (APIKey.UserID set) may carry,
// and the ones it gets when created without a list: what one person needs to
// work their own phone and texts. Whatever a user key's scopes say, it reaches
// only the routes of its own user (see each dialect's package doc); tenant
// administration (keys, webhooks, routing, numbers, tenant settings) is never
// among them.
var UserKeyScopes = []string{ScopeUsersRead, ScopeUsersManage, ScopeCallsRead, ScopeCallsManage,
	ScopeMessagesRead, ScopeMessagesManage, ScopeNumbersRead}

// APIKey is a credential for the REST APIs. Only a SHA-256 hash of the secret is
// stored; Prefix, the secret's first characters, finds the row without scanning
// and lets people tell their keys apart in lists.
type APIKey struct {
	ID       int64 `json:"id"`
	TenantID int64 `json:"tenant_id"`
	// UserID makes this a user key: actions taken with it are the user's own;
	// nil makes it a tenant-wide developer key.
	UserID *int64 `json:"user_id"`
	Name   string `json:"name"`
	// SecretPrefix is the marker the secret starts with: SecretPrefixDefault,
	// or the marker a dialect registered for the tenant-wide keys handed to
	// its vendor's integrations, which expect their keys to look a certain
	// way. Which markers may be asked for is the API's check (ValidSecretPrefix
	// is only their shape).
	SecretPrefix string     `json:"secret_prefix"`
	Prefix       string     `json:"prefix"`
	Hash         []byte     `json:"-"`
	Scopes       []string   `json:"scopes"`
	LastUsedAt   *time.Time `json:"last_used_at"`
	ExpiresAt    *time.Time `json:"expires_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
	CreatedAt    time.Time  `json:"created_at"`
}

// SecretPrefixDefault is the marker of Switchboard's own keys.
const SecretPrefixDefault = "sbk_"

// MaxSecretPrefix bounds the length of a secret's marker.
const MaxSecretPrefix = 16

// secretPrefixShape is the shape of every marker: lowercase words joined
// and ended by underscores, so that the marker of a secret is the longest
// run of them it starts with that the store knows.
var secretPrefixShape = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*_$`)

// ValidSecretPrefix reports whether p has the shape of a secret's marker.
func ValidSecretPrefix(p string) bool {
	return len(p) <= MaxSecretPrefix && secretPrefixShape.MatchString(p)
}

// ChildScopes is what a key created by k without a scope list gets: all that
// k grants, less what a user key may not carry when user is set.
func (k *APIKey) ChildScopes(user bool) []string {
	var out []string
	for _, s := range k.EffectiveScopes() {
		if !user || contains(UserKeyScopes, s) {
			out = append(out, s)
		} else if s == ScopeAll {
			out = append(out, UserKeyScopes...)
		}
	}
	return out
}

// IsUserKey reports whether the key is bound to one user.
func (k *APIKey) IsUserKey() bool { return k.UserID != nil }

// Allows reports whether the key carries scope, itself or the native scope
// covering it (ScopeCovers). A user key never carries a scope outside
// UserKeyScopes, even if its stored list says * (keys made before that rule):
// its scopes are read through that list.
func (k *APIKey) Allows(scope string) bool {
	if k.IsUserKey() && !contains(UserKeyScopes, scope) {
		return false
	}
	cover := ScopeCovers[scope]
	for _, s := range k.Scopes {
		if s == ScopeAll || s == scope || (cover != "" && s == cover) {
			return true
		}
	}
	return false
}

// EffectiveScopes lists the scopes the key really grants: * for a tenant key
// holding it, otherwise the named scopes Allows accepts, in Scopes order.
func (k *APIKey) EffectiveScopes() []string {
	if !k.IsUserKey() && contains(k.Scopes, ScopeAll) {
		return []string{ScopeAll}
	}
	var out []string
	for _, s := range Scopes[1:] {
		if k.Allows(s) {
			out = append(out, s)
		}
	}
	return out
}

// MayCreate reports, as a CodeForbidden error naming the field, why k may not
// create child: no key hands out more than it holds. An empty scope list is
// judged as the list Validate gives it. A user key creates no
// keys at all; every scope of child must be one k grants (* only from a key
// holding *); and a key that expires makes only keys that expire no later.
func (k *APIKey) MayCreate(child APIKey) error {
	deny := func(field, why string) error {
		return &Error{Code: CodeForbidden, Message: "a key cannot create a key with more than it holds",
			Fields: map[string]string{field: why}}
	}
	if k.IsUserKey() {
		return deny("user_id", "the calling key is a user key, which cannot create keys")
	}
	scopes := child.Scopes
	if len(scopes) == 0 { // what Validate will give it
		scopes = []string{ScopeAll}
		if child.IsUserKey() {
			scopes = UserKeyScopes
		}
	}
	for _, s := range scopes {
		if s == ScopeAll && !contains(k.Scopes, ScopeAll) {
			return deny("scopes", "includes *, which the calling key does not hold")
		}
		if s != ScopeAll && !k.Allows(s) {
			return deny("scopes", "includes "+s+", which the calling key does not hold")
		}
	}
	if k.ExpiresAt != nil && (child.ExpiresAt == nil || child.ExpiresAt.After(*k.ExpiresAt)) {
		return deny("expires_at", "must be no later than the calling key's own expiry, "+k.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
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
	switch {
	case k.SecretPrefix == "":
		k.SecretPrefix = SecretPrefixDefault
	case k.SecretPrefix == SecretPrefixDefault:
	case !ValidSecretPrefix(k.SecretPrefix):
		p.Add("secret_prefix", "must be "+SecretPrefixDefault+" or a dialect's marker")
	case k.UserID != nil:
		p.Add("secret_prefix", k.SecretPrefix+" marks developer keys, which belong to no user")
	}
	if len(k.Scopes) == 0 {
		k.Scopes = []string{ScopeAll}
		if k.IsUserKey() {
			k.Scopes = slices.Clone(UserKeyScopes)
		}
	}
	for _, s := range k.Scopes {
		switch {
		case !contains(Scopes, s):
			p.Add("scopes", "unknown scope "+Echo(s)+"; valid scopes are "+strings.Join(Scopes, ", "))
		case k.IsUserKey() && !contains(UserKeyScopes, s):
			p.Add("scopes", "a user key may carry only "+strings.Join(UserKeyScopes, ", ")+", not "+Echo(s))
		}
	}
	return p.Err()
}
