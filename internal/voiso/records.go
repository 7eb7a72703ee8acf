package voiso

import (
	"context"
	"errors"
	"time"

	"switchboard"
)

// This file shapes the CDR list's records (cdr call, cdr conversation, cdr
// sms in shapes.json); reporting.go serves them.

// cdrOut is one record of the CDR list.
type cdrOut struct {
	ID        string  `json:"id"`
	Type      string  `json:"type"`
	StartedAt string  `json:"started_at"`
	EndedAt   *string `json:"ended_at"`
	Data      any     `json:"data"`
}

// named is an object shown by its id and name (team, queue).
type named struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type callSourceOut struct {
	AccountID string `json:"account_id"`
	System    string `json:"system"`
}

type cdrCallDuration struct {
	Total       int `json:"total"`
	DialingTime int `json:"dialing_time"`
	QueueTime   int `json:"queue_time"`
	TalkTime    int `json:"talk_time"`
	HoldTime    int `json:"hold_time"`
	WrapupTime  int `json:"wrapup_time"`
}

// cdrCall is the data of a call's record.
type cdrCall struct {
	Subtype       string          `json:"subtype"`
	Direction     string          `json:"direction"`
	Disposition   string          `json:"disposition"`
	EndReason     *string         `json:"end_reason"`
	CallingNumber string          `json:"calling_number"`
	CalledNumber  string          `json:"called_number"`
	CallerID      *string         `json:"caller_id"`
	Duration      cdrCallDuration `json:"duration"`
	Agent         *agentOut       `json:"agent"`
	Team          *named          `json:"team"`
	Queue         *named          `json:"queue"`
	Campaign      *named          `json:"campaign"`
	ExtUserID     *string         `json:"ext_user_id"`
	Source        *callSourceOut  `json:"source"`
	WrapupCode    *string         `json:"wrapup_code"`
	Recorded      bool            `json:"recorded"`
	CDRURL        string          `json:"cdr_url"`
}

type cdrConversationDuration struct {
	Total             int `json:"total"`
	QueueTime         int `json:"queue_time"`
	FirstResponseTime int `json:"first_response_time"`
}

// cdrConversation is the data of a conversation's record.
type cdrConversation struct {
	Subtype       string                  `json:"subtype"`
	Disposition   string                  `json:"disposition"`
	Channel       convChannel             `json:"channel"`
	Contact       convContact             `json:"contact"`
	Agent         *agentOut               `json:"agent"`
	Queue         *named                  `json:"queue"`
	Team          *named                  `json:"team"`
	Duration      cdrConversationDuration `json:"duration"`
	MessagesCount int64                   `json:"messages_count"`
	WrapupCode    *string                 `json:"wrapup_code"`
	CDRURL        string                  `json:"cdr_url"`
}

// cdrSMS is the data of an SMS's record.
type cdrSMS struct {
	Subtype       string    `json:"subtype"`
	Disposition   string    `json:"disposition"`
	CallingNumber string    `json:"calling_number"`
	CalledNumber  string    `json:"called_number"`
	Agent         *agentOut `json:"agent"`
	Segments      int       `json:"segments"`
	Text          string    `json:"text"`
	CDRURL        string    `json:"cdr_url"`
}

// recordNames resolves the ids of one answer's records to the objects they show,
// each read once per answer: a page of 1,000 records costs one read of its
// users and one of each distinct queue, team, campaign and channel profile.
type recordNames struct {
	store     switchboard.Store
	tenantID  int64
	users     map[int64]*switchboard.User
	queues    map[int64]*named
	teams     map[int64]*named
	campaigns map[int64]*named
	profiles  map[int64]*switchboard.ChannelProfile
}

func newRecordNames(store switchboard.Store, tenantID int64) *recordNames {
	return &recordNames{store: store, tenantID: tenantID, users: map[int64]*switchboard.User{}, queues: map[int64]*named{},
		teams: map[int64]*named{}, campaigns: map[int64]*named{}, profiles: map[int64]*switchboard.ChannelProfile{}}
}

// loadUsers reads the users of ids not read yet, in one batch.
func (n *recordNames) loadUsers(ctx context.Context, ids []int64) error {
	var missing []int64
	for _, id := range ids {
		if _, ok := n.users[id]; !ok {
			missing = append(missing, id)
			n.users[id] = nil // a user the store does not know stays nil
		}
	}
	if len(missing) == 0 {
		return nil
	}
	us, err := n.store.UsersByID(ctx, n.tenantID, missing)
	for i := range us {
		n.users[us[i].ID] = &us[i]
	}
	return err
}

// prepare reads in one batch the users the records name.
func (n *recordNames) prepare(ctx context.Context, recs []switchboard.Record) error {
	var ids []int64
	for _, r := range recs {
		var id *int64
		switch {
		case r.Call != nil:
			id = r.Call.AgentID
		case r.Conversation != nil:
			id = r.Conversation.AgentID
		case r.Message != nil:
			id = r.Message.UserID
		}
		if id != nil {
			ids = append(ids, *id)
		}
	}
	return n.loadUsers(ctx, ids)
}

func (n *recordNames) user(ctx context.Context, id *int64) (*switchboard.User, error) {
	if id == nil {
		return nil, nil
	}
	if err := n.loadUsers(ctx, []int64{*id}); err != nil {
		return nil, err
	}
	return n.users[*id], nil
}

func (n *recordNames) agent(ctx context.Context, id *int64) (*agentOut, error) {
	u, err := n.user(ctx, id)
	if u == nil || err != nil {
		return nil, err
	}
	return &agentOut{ID: u.ID, Name: u.Name(), Email: u.Email, Extension: u.Extension}, nil
}

// team is the agent's first team: a record shows the team of the agent who
// handled it.
func (n *recordNames) team(ctx context.Context, agentID *int64) (*named, error) {
	u, err := n.user(ctx, agentID)
	if u == nil || len(u.TeamIDs) == 0 || err != nil {
		return nil, err
	}
	return lookup(ctx, n.teams, u.TeamIDs[0], func(ctx context.Context, id int64) (string, error) {
		t, err := n.store.Team(ctx, n.tenantID, id)
		return t.Name, err
	})
}

func (n *recordNames) queue(ctx context.Context, id *int64) (*named, error) {
	if id == nil {
		return nil, nil
	}
	return lookup(ctx, n.queues, *id, func(ctx context.Context, id int64) (string, error) {
		q, err := n.store.Queue(ctx, n.tenantID, id)
		return q.Name, err
	})
}

func (n *recordNames) campaign(ctx context.Context, id *int64) (*named, error) {
	if id == nil {
		return nil, nil
	}
	return lookup(ctx, n.campaigns, *id, func(ctx context.Context, id int64) (string, error) {
		c, err := n.store.Campaign(ctx, n.tenantID, id)
		return c.Name, err
	})
}

func (n *recordNames) profile(ctx context.Context, id *int64) (*switchboard.ChannelProfile, error) {
	if id == nil {
		return nil, nil
	}
	if p, ok := n.profiles[*id]; ok {
		return p, nil
	}
	p, err := n.store.ChannelProfile(ctx, n.tenantID, *id)
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeNotFound:
		n.profiles[*id] = nil
		return nil, nil
	case err != nil:
		return nil, err
	}
	n.profiles[*id] = &p
	return &p, nil
}

// lookup reads the name of id once into cache; an object deleted since is
// shown as null.
func lookup(ctx context.Context, cache map[int64]*named, id int64, read func(context.Context, int64) (string, error)) (*named, error) {
	if v, ok := cache[id]; ok {
		return v, nil
	}
	name, err := read(ctx, id)
	var e *switchboard.Error
	switch {
	case errors.As(err, &e) && e.Code == switchboard.CodeNotFound:
		cache[id] = nil
		return nil, nil
	case err != nil:
		return nil, err
	}
	cache[id] = &named{ID: id, Name: name}
	return cache[id], nil
}

// render shapes one record.
func (n *recordNames) render(ctx context.Context, publicURL string, r switchboard.Record) (cdrOut, error) {
	switch {
	case r.Call != nil:
		return n.renderCall(ctx, publicURL, *r.Call)
	case r.Conversation != nil:
		return n.renderConversation(ctx, publicURL, *r.Conversation)
	case r.Message != nil:
		return n.renderSMS(ctx, publicURL, *r.Message)
	}
	return cdrOut{}, errors.New("voiso: a record of no kind")
}

func (n *recordNames) renderCall(ctx context.Context, publicURL string, c switchboard.CDR) (cdrOut, error) {
	d := cdrCall{Subtype: switchboard.CallSubtype(&c.Call), Direction: string(c.Direction), Disposition: disposition(c.Call),
		CallingNumber: digits(c.From), CalledNumber: digits(c.To), Recorded: c.Recorded, CDRURL: cdrURL(publicURL, c.UUID),
		Duration: cdrCallDuration{Total: wholeSeconds(secondsOf(c.TotalSeconds)), QueueTime: wholeSeconds(secondsOf(c.WaitSeconds)),
			TalkTime: wholeSeconds(secondsOf(c.TalkSeconds)), HoldTime: wholeSeconds(secondsOf(c.HoldSeconds))}}
	if c.Direction == switchboard.Outbound {
		d.CallerID = ptr(digits(c.From))
		until := c.EndedAt
		if c.ConnectedAt != nil {
			until = c.ConnectedAt
		}
		if until != nil {
			d.Duration.DialingTime = wholeSeconds(until.Sub(c.CreatedAt))
		}
	}
	if c.EndedAt != nil {
		d.EndReason = ptr(endReason(c.Call))
	}
	if c.Source.AccountID != "" {
		d.ExtUserID = ptr(c.Source.AccountID)
	}
	if c.Source.AccountID != "" || c.Source.System != "" {
		d.Source = &callSourceOut{AccountID: c.Source.AccountID, System: c.Source.System}
	}
	var err error
	if d.Agent, err = n.agent(ctx, c.AgentID); err != nil {
		return cdrOut{}, err
	}
	if d.Team, err = n.team(ctx, c.AgentID); err != nil {
		return cdrOut{}, err
	}
	if d.Queue, err = n.queue(ctx, c.QueueID); err != nil {
		return cdrOut{}, err
	}
	if d.Campaign, err = n.campaign(ctx, c.CampaignID); err != nil {
		return cdrOut{}, err
	}
	return cdrOut{ID: c.UUID, Type: string(switchboard.RecordCall), StartedAt: seconds(c.CreatedAt), EndedAt: optSeconds(c.EndedAt), Data: d}, nil
}

// conversationDisposition is a conversation's status in Voiso's words:
// waiting in its queue, active with an agent, archived once ended.
func conversationDisposition(st switchboard.ConversationStatus) string {
	switch st {
	case switchboard.ConversationQueued:
		return "waiting"
	case switchboard.ConversationAssigned, switchboard.ConversationInProgress:
		return "active"
	}
	return "archived"
}

func (n *recordNames) renderConversation(ctx context.Context, publicURL string, c switchboard.Conversation) (cdrOut, error) {
	d := cdrConversation{Subtype: string(c.Channel), Disposition: conversationDisposition(c.Status),
		Channel: convChannel{Type: convChannelType(c.Channel), Name: c.Via}, Contact: convContactOf(c), MessagesCount: c.LastSeq,
		CDRURL: cdrURL(publicURL, c.UUID)}
	end := c.EndedAt
	if end != nil {
		d.Duration.Total = wholeSeconds(end.Sub(c.CreatedAt))
	}
	if c.QueuedAt != nil && c.AssignedAt != nil {
		d.Duration.QueueTime = wholeSeconds(c.AssignedAt.Sub(*c.QueuedAt))
	}
	if c.FirstResponseAt != nil {
		d.Duration.FirstResponseTime = wholeSeconds(c.FirstResponseAt.Sub(c.CreatedAt))
	}
	if c.EndedAt != nil && c.EndReason != "" {
		d.WrapupCode = ptr(c.EndReason) // the core's closest: why it ended
	}
	p, err := n.profile(ctx, c.ProfileID)
	if err != nil {
		return cdrOut{}, err
	}
	if p != nil {
		d.Channel.ID, d.Channel.Name = p.UUID, p.Name
	}
	if d.Agent, err = n.agent(ctx, c.AgentID); err != nil {
		return cdrOut{}, err
	}
	if d.Team, err = n.team(ctx, c.AgentID); err != nil {
		return cdrOut{}, err
	}
	if d.Queue, err = n.queue(ctx, c.QueueID); err != nil {
		return cdrOut{}, err
	}
	return cdrOut{ID: c.UUID, Type: string(switchboard.RecordConversation), StartedAt: seconds(c.CreatedAt), EndedAt: optSeconds(c.EndedAt), Data: d}, nil
}

// smsDisposition is an SMS's status in Voiso's legacy words.
var smsDisposition = map[switchboard.MessageStatus]string{
	switchboard.MessageQueued:    "waiting",
	switchboard.MessageSent:      "sent",
	switchboard.MessageDelivered: "delivered",
	switchboard.MessageFailed:    "not_sent",
	switchboard.MessageReceived:  "delivered",
}

func (n *recordNames) renderSMS(ctx context.Context, publicURL string, m switchboard.Message) (cdrOut, error) {
	d := cdrSMS{Subtype: string(m.Direction) + "_sms", Disposition: smsDisposition[m.Status], CallingNumber: digits(m.From),
		CalledNumber: digits(m.To), Segments: smsSegments(m.Body), Text: m.Body, CDRURL: cdrURL(publicURL, m.UUID)}
	var err error
	if d.Agent, err = n.agent(ctx, m.UserID); err != nil {
		return cdrOut{}, err
	}
	end := m.DeliveredAt
	if end == nil {
		end = m.SentAt
	}
	return cdrOut{ID: m.UUID, Type: string(switchboard.RecordSMS), StartedAt: seconds(m.CreatedAt), EndedAt: optSeconds(end), Data: d}, nil
}

// secondsOf is a duration the core keeps in seconds.
func secondsOf(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
