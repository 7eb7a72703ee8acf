package dialer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/leadimport"
)

// Service is the switchboard.Dialer of the server: the campaign lifecycle
// on the store, the running dialer on the engine, lead imports in the
// background, and the recovery of what a cut run left.
type Service struct {
	store     switchboard.Store
	core      *Dialer
	clock     engine.Clock
	log       *slog.Logger
	imports   sync.WaitGroup
	importCtx context.Context
	cancel    context.CancelFunc
}

// ServiceOptions wire a Service.
type ServiceOptions struct {
	Store  switchboard.Store
	Engine Engine
	Clock  engine.Clock
	Log    *slog.Logger
	// Tick is the pacing period (default 1 s).
	Tick time.Duration
}

// NewService returns a Service; Start recovers and starts it.
func NewService(opt ServiceOptions) *Service {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{store: opt.Store, clock: opt.Clock, log: opt.Log, importCtx: ctx, cancel: cancel,
		core: New(Options{Clock: opt.Clock, Engine: opt.Engine, Store: opt.Store, Log: opt.Log, Tick: opt.Tick})}
}

var _ switchboard.Dialer = (*Service)(nil)

// Start settles what a previous run left open and resumes the started
// campaigns. A dial whose outcome a crash lost is closed as interrupted and
// its lead is not dialled again (the call may have reached the person); an
// import a crash cut is marked failed (its rows so far are in, and posting
// the file again skips them as duplicates); leads offered in preview go back
// to be offered.
func (s *Service) Start(ctx context.Context) error {
	if n, err := s.store.FailRunningImports(ctx, "the server stopped during the import; post the file again (rows already imported are skipped as duplicates)"); err != nil {
		return fmt.Errorf("dialer: close cut imports: %w", err)
	} else if n > 0 {
		s.log.Warn("dialer: imports cut by the previous run marked failed", "jobs", n)
	}
	open, err := s.store.OpenAttempts(ctx)
	if err != nil {
		return fmt.Errorf("dialer: read open attempts: %w", err)
	}
	now := s.clock.Now()
	for _, a := range open {
		l, err := s.store.Lead(ctx, a.TenantID, a.LeadID)
		if err != nil {
			return fmt.Errorf("dialer: read lead %d: %w", a.LeadID, err)
		}
		a.EndedAt = &now
		final, outcome := switchboard.LeadFailed, switchboard.DialInterrupt
		if a.Outcome == switchboard.DialConnected {
			// The person talked to an agent: the lead is done, whatever
			// cut the call.
			final, outcome = switchboard.LeadFinished, switchboard.DialConnected
			a.Reason = "connected; the server stopped during the call"
		} else {
			a.Outcome, a.Reason = switchboard.DialInterrupt, "the server stopped while the call was up; the lead is not dialled again"
		}
		if !l.Status.Final() {
			l.Status, l.LastOutcome, l.NextAttemptAt, l.UpdatedAt = final, outcome, nil, now
		}
		if _, err := s.store.SaveDialProgress(ctx, a.TenantID, []switchboard.Lead{l}, []switchboard.DialAttempt{a}); err != nil {
			return fmt.Errorf("dialer: close attempt %d: %w", a.ID, err)
		}
	}
	if len(open) > 0 {
		s.log.Warn("dialer: dials cut by the previous run closed as interrupted", "attempts", len(open))
	}
	running, err := s.store.RunningCampaigns(ctx)
	if err != nil {
		return fmt.Errorf("dialer: read running campaigns: %w", err)
	}
	for _, c := range running {
		if err := s.releasePreviews(ctx, c); err != nil {
			return err
		}
		if err := s.core.Run(ctx, c); err != nil {
			s.log.Error("dialer: resume campaign", "campaign", c.ID, "err", err)
		}
	}
	s.core.Start()
	return nil
}

// releasePreviews gives back the leads a cut run had offered in preview.
func (s *Service) releasePreviews(ctx context.Context, c switchboard.Campaign) error {
	now := s.clock.Now()
	for {
		page, err := s.store.Leads(ctx, c.TenantID, switchboard.LeadTarget{CampaignID: c.ID}, switchboard.LeadFilter{Status: switchboard.LeadPreviewing},
			switchboard.ListOptions{Limit: 500, SkipTotal: true})
		if err != nil {
			return fmt.Errorf("dialer: read previewed leads: %w", err)
		}
		if len(page.Items) == 0 {
			return nil
		}
		for i := range page.Items {
			l := &page.Items[i]
			l.Status, l.UpdatedAt = switchboard.LeadUpcoming, now
			if l.Attempts > 0 {
				l.Status = switchboard.LeadRedialScheduled
			}
		}
		if _, err := s.store.SaveDialProgress(ctx, c.TenantID, page.Items, nil); err != nil {
			return fmt.Errorf("dialer: release previewed leads: %w", err)
		}
	}
}

// Close stops dialling and waits (within ctx) for the imports in progress to
// stop at their next batch.
func (s *Service) Close(ctx context.Context) error {
	s.core.Close()
	s.cancel()
	done := make(chan struct{})
	go func() { s.imports.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("dialer: imports still running: %w", ctx.Err())
	}
}

// StartCampaign implements switchboard.Dialer: a created campaign starts; a
// stopped or finished one starts again (leads added since are dialled).
func (s *Service) StartCampaign(ctx context.Context, tenantID, id int64) (switchboard.Campaign, error) {
	c, err := s.store.SetCampaignStatus(ctx, tenantID, id, []switchboard.CampaignStatus{switchboard.CampaignCreated,
		switchboard.CampaignStopped, switchboard.CampaignFinished}, switchboard.CampaignStarted)
	if err != nil {
		return c, err
	}
	return c, s.run(ctx, c)
}

// ResumeCampaign implements switchboard.Dialer.
func (s *Service) ResumeCampaign(ctx context.Context, tenantID, id int64) (switchboard.Campaign, error) {
	c, err := s.store.SetCampaignStatus(ctx, tenantID, id, []switchboard.CampaignStatus{switchboard.CampaignPaused}, switchboard.CampaignStarted)
	if err != nil {
		return c, err
	}
	return c, s.run(ctx, c)
}

func (s *Service) run(ctx context.Context, c switchboard.Campaign) error {
	if err := s.core.Run(ctx, c); err != nil {
		if errors.Is(err, ErrClosed) {
			return &switchboard.Error{Code: switchboard.CodeUnavailable, Message: "the server is shutting down"}
		}
		return fmt.Errorf("dialer: run campaign %d: %w", c.ID, err)
	}
	return nil
}

// PauseCampaign implements switchboard.Dialer.
func (s *Service) PauseCampaign(ctx context.Context, tenantID, id int64) (switchboard.Campaign, error) {
	c, err := s.store.SetCampaignStatus(ctx, tenantID, id, []switchboard.CampaignStatus{switchboard.CampaignStarted}, switchboard.CampaignPaused)
	if err == nil {
		s.core.Halt(ctx, id)
	}
	return c, err
}

// StopCampaign implements switchboard.Dialer.
func (s *Service) StopCampaign(ctx context.Context, tenantID, id int64) (switchboard.Campaign, error) {
	c, err := s.store.SetCampaignStatus(ctx, tenantID, id, []switchboard.CampaignStatus{switchboard.CampaignStarted,
		switchboard.CampaignPaused}, switchboard.CampaignStopped)
	if err == nil {
		s.core.Halt(ctx, id)
	}
	return c, err
}

// CampaignStats implements switchboard.Dialer.
func (s *Service) CampaignStats(ctx context.Context, tenantID, id int64) (switchboard.CampaignStats, error) {
	st, err := s.store.CampaignCounts(ctx, tenantID, id, s.clock.Now().Add(-windowSpan))
	if err != nil {
		return st, err
	}
	if live, ok := s.core.Live(tenantID, id); ok {
		st.AgentsOnCampaign, st.AgentsAvailable = live.AgentsOnCampaign, live.AgentsAvailable
		st.DialsInProgress, st.PacingRatio = live.DialsInProgress, live.PacingRatio
	}
	return st, nil
}

// ImportLeads implements switchboard.Dialer: the body is parsed at once (a
// malformed body is refused with the reason), the job is filed, and the rows
// are inserted in the background, batch by batch, with the job's progress.
func (s *Service) ImportLeads(ctx context.Context, tenantID int64, to switchboard.LeadTarget, format string, body []byte) (switchboard.ImportJob, error) {
	switch {
	case to.CampaignID != 0:
		if _, err := s.store.Campaign(ctx, tenantID, to.CampaignID); err != nil {
			return switchboard.ImportJob{}, err
		}
	case to.ContactListID != 0:
		if _, err := s.store.ContactList(ctx, tenantID, to.ContactListID); err != nil {
			return switchboard.ImportJob{}, err
		}
	default:
		return switchboard.ImportJob{}, &switchboard.Error{Code: switchboard.CodeInvalid, Message: "leads need a campaign or a contact list"}
	}
	job, leads, rows, err := leadimport.Prepare(ctx, s.store, tenantID, to, format, body, "")
	if err != nil {
		return job, err
	}
	s.imports.Add(1)
	go func() {
		defer s.imports.Done()
		if _, err := leadimport.RunInto(s.importCtx, s.store, job, to, leads, rows); err != nil {
			s.log.Warn("dialer: lead import failed", "job", job.ID, "err", err)
		}
	}()
	return job, nil
}

// Stats reports the running dialer's totals, for the metrics.
func (s *Service) Stats() Stats { return s.core.Stats() }

// Preview implements switchboard.Dialer.
func (s *Service) Preview(_ context.Context, tenantID, agentID int64) (switchboard.PreviewOffer, bool, error) {
	o, ok := s.core.Preview(tenantID, agentID)
	return o, ok, nil
}

// AcceptPreview implements switchboard.Dialer.
func (s *Service) AcceptPreview(ctx context.Context, tenantID, agentID, leadID int64) (switchboard.PreviewOffer, error) {
	return s.core.AcceptPreview(ctx, tenantID, agentID, leadID)
}

// SkipPreview implements switchboard.Dialer.
func (s *Service) SkipPreview(ctx context.Context, tenantID, agentID, leadID int64) error {
	return s.core.SkipPreview(ctx, tenantID, agentID, leadID)
}
