package switchboard

import (
	"strings"
	"time"
)

// PhoneNumber is a DID the tenant owns. Calls to it route to the assigned user,
// queue or IVR menu (at most one of them); messages need SMSEnabled or
// MMSEnabled.
type PhoneNumber struct {
	ID       int64 `json:"id"`
	TenantID int64 `json:"tenant_id"`
	// Number is the E.164 form every comparison uses; Input keeps what the
	// caller typed, because people recognise their own formatting.
	Number     string    `json:"number"`
	Input      string    `json:"input"`
	Label      string    `json:"label"`
	SMSEnabled bool      `json:"sms_enabled"`
	MMSEnabled bool      `json:"mms_enabled"`
	UserID     *int64    `json:"user_id"`
	QueueID    *int64    `json:"queue_id"`
	IVRMenuID  *int64    `json:"ivr_menu_id"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Validate reports every invalid field of n. The number itself is normalized and
// checked by the store's phone-number parser.
func (n *PhoneNumber) Validate() error {
	p := Problems{}
	n.Label = strings.TrimSpace(n.Label)
	if strings.TrimSpace(n.Input) == "" && n.Number == "" {
		p.Add("number", "is required")
	}
	checkLen(p, "number", n.Input, MaxNumberLength)
	checkName(p, "label", n.Label, false)
	if n.UserID != nil && n.QueueID != nil {
		p.Add("queue_id", "cannot be set together with user_id: a number routes to one target")
	}
	if n.IVRMenuID != nil && (n.UserID != nil || n.QueueID != nil) {
		p.Add("ivr_menu_id", "cannot be set together with user_id or queue_id: a number routes to one target")
	}
	return p.Err()
}
