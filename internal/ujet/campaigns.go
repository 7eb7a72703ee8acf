package ujet

// Campaigns (seed: "Campaign Endpoints", 7 items, and the Manager API's
// campaign list and details, served here too): the core's campaigns as the
// dialer runs them, each shown as UJET's campaign object, with its contacts
// (the core's leads) in campaign_contacts.go.

import (
	"context"
	"net/http"
	"reflect"

	"switchboard"
)

// CampaignOut is UJET's campaign object (Manager API).
type CampaignOut struct {
	ID int64 `json:"id"`
	// CampaignType is always "default": the core has one kind of campaign.
	CampaignType string `json:"campaign_type"`
	// ExternalCampaignID is null: the core keeps no outside id of a campaign.
	ExternalCampaignID *string `json:"external_campaign_id"`
	Name               string  `json:"name"`
	// Mode is preview, progressive or predictive, as the core's.
	Mode string `json:"mode"`
	// Status is the core's: created, started, paused, stopped, finished.
	Status string `json:"status"`
	// Queue is the campaign's queue as a menu (menu id 2·queue id).
	Queue                        *SelectedMenu `json:"queue"`
	MaxAbandonmentPercent        float64       `json:"max_abandonment_percent"`
	MaxRedialCount               int           `json:"max_redial_count"`
	RedialIntervalMinutes        int           `json:"redial_interval_minutes"`
	OverdialAdjustmentMultiplier float64       `json:"overdial_adjustment_multiplier"`
	// TargetNumberToProcess is how many contacts reaching a final status
	// finish the campaign; 0: all of them.
	TargetNumberToProcess int     `json:"target_number_to_process"`
	CreatedAt             string  `json:"created_at"`
	StartsAt              *string `json:"starts_at"`
	EndsAt                *string `json:"ends_at"`
	UpdatedAt             string  `json:"updated_at"`
	// ContactStats counts the campaign's contacts by status label, every
	// label of campaignContactStatuses present (0 when none).
	ContactStats map[string]int `json:"contact_stats"`
}

func (a *API) campaignRoutes() []route {
	return append([]route{
		rawHandler(route{Method: http.MethodGet, Path: "/outbound_dialer/campaigns", Summary: "List campaigns",
			Doc:   "The Manager API's campaign list, served under the Apps API too; page and per paginate it.",
			Scope: switchboard.ScopeCampaignsRead, Query: campaignPageParams},
			nil, reflect.TypeFor[[]CampaignOut](), a.listCampaigns),
		handler(route{Method: http.MethodGet, Path: "/outbound_dialer/campaigns/{id}", Summary: "Get a campaign",
			Scope: switchboard.ScopeCampaignsRead}, a.getCampaign),
	}, a.campaignContactRoutes()...)
}

// campaignPageParams document page and per.
var campaignPageParams = []param{{Name: "page", Type: "integer", Doc: "the page, from 1"},
	{Name: "per", Type: "integer", Doc: "records a page, 1-100 (default 100)"}}

func (a *API) listCampaigns(w http.ResponseWriter, c *call) {
	opt, page, per, err := pageOptions(c.r)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	ctx := c.r.Context()
	res, err := a.opt.Store.Campaigns(ctx, c.tenantID(), opt)
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	tree, err := loadMenus(ctx, a.opt.Store, c.tenantID())
	if err != nil {
		a.writeError(w, c.r, err)
		return
	}
	out := make([]CampaignOut, 0, len(res.Items))
	for _, cp := range res.Items {
		o, err := a.renderCampaign(ctx, tree, cp)
		if err != nil {
			a.writeError(w, c.r, err)
			return
		}
		out = append(out, o)
	}
	writeList(c, a.opt.PublicURL, out, res.Total, page, per)
}

func (a *API) getCampaign(ctx context.Context, c *call, _ *noBody) (CampaignOut, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return CampaignOut{}, err
	}
	cp, err := a.opt.Store.Campaign(ctx, c.tenantID(), id)
	if err != nil {
		return CampaignOut{}, campaignNotFound(err)
	}
	tree, err := loadMenus(ctx, a.opt.Store, c.tenantID())
	if err != nil {
		return CampaignOut{}, err
	}
	return a.renderCampaign(ctx, tree, cp)
}

// renderCampaign shows cp as UJET's campaign object, with its contacts
// counted by the labels they show.
func (a *API) renderCampaign(ctx context.Context, tree *menuTree, cp switchboard.Campaign) (CampaignOut, error) {
	counts, err := a.opt.Store.LeadCounts(ctx, cp.TenantID, cp.ID)
	if err != nil {
		return CampaignOut{}, err
	}
	stats := make(map[string]int, len(campaignContactStatuses))
	for _, s := range campaignContactStatuses {
		stats[s] = 0
	}
	for _, n := range counts {
		stats[campaignContactStatus(n.Status, n.Outcome, n.Transfer)] += n.Count
	}
	return CampaignOut{ID: cp.ID, CampaignType: "default", Name: cp.Name, Mode: string(cp.Mode), Status: string(cp.Status),
		Queue: tree.selectedMenu(queueMenuID(cp.QueueID)), MaxAbandonmentPercent: cp.MaxAbandonPercent,
		MaxRedialCount: cp.MaxRedials, RedialIntervalMinutes: cp.RedialIntervalSeconds / 60,
		OverdialAdjustmentMultiplier: cp.OverdialAdjustment, TargetNumberToProcess: cp.TargetToProcess,
		CreatedAt: millis(cp.CreatedAt), StartsAt: optMillis(cp.Schedule.StartsAt), EndsAt: optMillis(cp.Schedule.EndsAt),
		UpdatedAt: millis(cp.UpdatedAt), ContactStats: stats}, nil
}
