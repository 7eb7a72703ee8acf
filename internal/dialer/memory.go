package dialer

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"switchboard"
)

// Memory is a Store held in memory, for the dialer simulator: one tenant's
// queues, do-not-call list, campaigns, leads and ledger, with the store's
// semantics for what the dialer reads and writes, and no durability.
type Memory struct {
	mu        sync.Mutex
	queues    map[int64]switchboard.Queue
	dnc       map[string]bool
	optedOut  map[string]bool
	numbers   map[string]switchboard.PhoneNumber
	campaigns map[int64]switchboard.Campaign
	leads     []switchboard.Lead // in dialling order: priority desc, then id
	index     map[int64]int
	attempts  []switchboard.DialAttempt
	nextLead  int64
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{queues: map[int64]switchboard.Queue{}, dnc: map[string]bool{}, optedOut: map[string]bool{},
		numbers: map[string]switchboard.PhoneNumber{}, campaigns: map[int64]switchboard.Campaign{},
		index: map[int64]int{}}
}

// AddQueue files a queue.
func (m *Memory) AddQueue(q switchboard.Queue) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queues[q.ID] = q
}

// AddCampaign files a campaign as it is.
func (m *Memory) AddCampaign(c switchboard.Campaign) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.campaigns[c.ID] = c
}

// OptOut records that number withdrew its consent (texted STOP).
func (m *Memory) OptOut(number string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.optedOut[number] = true
}

// AddDNC puts a number on the do-not-call list.
func (m *Memory) AddDNC(number string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dnc[number] = true
}

// AddLeads files leads (upcoming) in a campaign, numbering them.
func (m *Memory) AddLeads(campaignID int64, leads []switchboard.Lead) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range leads {
		m.nextLead++
		l.ID, l.CampaignID = m.nextLead, &campaignID
		if l.Status == "" {
			l.Status = switchboard.LeadUpcoming
		}
		if len(l.PhoneNumbers) == 0 {
			l.PhoneNumbers = []string{l.PhoneNumber}
		}
		m.leads = append(m.leads, l)
	}
	slices.SortStableFunc(m.leads, func(a, b switchboard.Lead) int {
		if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	for i, l := range m.leads {
		m.index[l.ID] = i
	}
}

// Leads returns a copy of every lead.
func (m *Memory) Leads() []switchboard.Lead {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.leads)
}

// Ledger returns a copy of the ledger.
func (m *Memory) Ledger() []switchboard.DialAttempt {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.attempts)
}

// Lead implements Store.
func (m *Memory) Lead(_ context.Context, _ int64, id int64) (switchboard.Lead, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.index[id]
	if !ok {
		return switchboard.Lead{}, switchboard.Errorf(switchboard.CodeNotFound, "lead %d not found", id)
	}
	return m.leads[i], nil
}

// Queue implements Store.
func (m *Memory) Queue(_ context.Context, tenantID, id int64) (switchboard.Queue, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q, ok := m.queues[id]
	if !ok || q.TenantID != tenantID {
		return q, switchboard.Errorf(switchboard.CodeNotFound, "queue %d not found", id)
	}
	return q, nil
}

// IsDNC implements Store.
func (m *Memory) IsDNC(_ context.Context, _ int64, number string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dnc[number], nil
}

// AddNumber files a tenant's phone number.
func (m *Memory) AddNumber(n switchboard.PhoneNumber) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.numbers[n.Number] = n
}

// NumberOwner implements Store.
func (m *Memory) NumberOwner(_ context.Context, number string) (switchboard.PhoneNumber, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.numbers[number]
	if !ok {
		return n, switchboard.Errorf(switchboard.CodeNotFound, "number %s not found", number)
	}
	return n, nil
}

// OptedOut implements Store.
func (m *Memory) OptedOut(_ context.Context, _ int64, number string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.optedOut[number], nil
}

// SetCampaignStatus implements Store.
func (m *Memory) SetCampaignStatus(_ context.Context, tenantID, id int64, from []switchboard.CampaignStatus, to switchboard.CampaignStatus) (switchboard.Campaign, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.campaigns[id]
	if !ok || c.TenantID != tenantID {
		return c, switchboard.Errorf(switchboard.CodeNotFound, "campaign %d not found", id)
	}
	if !slices.Contains(from, c.Status) {
		return c, switchboard.Errorf(switchboard.CodeConflict, "the campaign is %s", c.Status)
	}
	c.Status = to
	m.campaigns[id] = c
	return c, nil
}

// Campaign implements Store.
func (m *Memory) Campaign(_ context.Context, tenantID, id int64) (switchboard.Campaign, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.campaigns[id]
	if !ok || c.TenantID != tenantID {
		return c, switchboard.Errorf(switchboard.CodeNotFound, "campaign %d not found", id)
	}
	return c, nil
}

// DialableLeads implements Store.
func (m *Memory) DialableLeads(_ context.Context, _ int64, campaignID int64, now time.Time, limit int) ([]switchboard.Lead, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []switchboard.Lead
	for _, l := range m.leads {
		if len(out) == limit {
			break
		}
		if *l.CampaignID != campaignID || (l.Status != switchboard.LeadUpcoming && l.Status != switchboard.LeadRedialScheduled) ||
			l.NextAttemptAt != nil && l.NextAttemptAt.After(now) {
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

// SaveDialProgress implements Store.
func (m *Memory) SaveDialProgress(_ context.Context, _ int64, leads []switchboard.Lead, attempts []switchboard.DialAttempt) ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range leads {
		if i, ok := m.index[l.ID]; ok {
			s := &m.leads[i]
			s.Status, s.Attempts, s.LastOutcome, s.LastCallID = l.Status, l.Attempts, l.LastOutcome, l.LastCallID
			s.LastAttemptAt, s.NextAttemptAt, s.UpdatedAt = l.LastAttemptAt, l.NextAttemptAt, l.UpdatedAt
		}
	}
	var ids []int64
	for _, a := range attempts {
		if a.ID == 0 {
			a.ID = int64(len(m.attempts) + 1)
			m.attempts = append(m.attempts, a)
			ids = append(ids, a.ID)
			continue
		}
		if a.ID <= int64(len(m.attempts)) {
			m.attempts[a.ID-1] = a
		}
	}
	return ids, nil
}

// CampaignCounts implements Store.
func (m *Memory) CampaignCounts(_ context.Context, _ int64, campaignID int64, windowSince time.Time) (switchboard.CampaignStats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := switchboard.CampaignStats{Leads: map[switchboard.LeadStatus]int{}}
	for _, s := range switchboard.LeadStatuses {
		st.Leads[s] = 0
	}
	for _, l := range m.leads {
		if *l.CampaignID == campaignID {
			st.Leads[l.Status]++
			st.LeadsTotal++
		}
	}
	var answered, abandoned, wAnswered, wAbandoned int
	for _, a := range m.attempts {
		if a.CampaignID != campaignID {
			continue
		}
		if a.Outcome != switchboard.DialBlocked && a.Outcome != switchboard.DialSkipped {
			st.Dials++
		}
		switch a.Outcome {
		case switchboard.DialConnected:
			st.Connects++
		case switchboard.DialAbandoned:
			st.Abandons++
		case switchboard.DialMachine:
			st.Machines++
		case switchboard.DialNoAnswer:
			st.NoAnswers++
		case switchboard.DialBusy:
			st.Busy++
		case switchboard.DialFailed, switchboard.DialInvalid:
			st.Failed++
		case switchboard.DialBlocked:
			st.Blocked++
		}
		human := a.Outcome == switchboard.DialConnected || a.Outcome == switchboard.DialAbandoned || a.Outcome == switchboard.DialHungUp
		if human {
			answered++
			if !a.At.Before(windowSince) {
				wAnswered++
			}
		}
		if a.Outcome == switchboard.DialAbandoned {
			abandoned++
			if !a.At.Before(windowSince) {
				wAbandoned++
			}
		}
	}
	if answered > 0 {
		st.AbandonRate = 100 * float64(abandoned) / float64(answered)
	}
	if wAnswered > 0 {
		st.WindowAbandonRate = 100 * float64(wAbandoned) / float64(wAnswered)
	}
	return st, nil
}
