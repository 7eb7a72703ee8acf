package switchboard

import (
	"context"
	"io"
	"math"
	"time"
)

// Speech analytics: after a recorded call ends, its recording is transcribed
// by a provider (a Transcriber), summarised and scored, and the result is
// stored as the call's CallAnalytics with a call.analytics.available event
// (or call.analytics.failed once the attempts run out). The work itself is
// internal/analytics's; these are the words every part shares.

// AnalyticsStatus is where a call's analysis stands.
type AnalyticsStatus string

// The analysis statuses. A pending analysis is waiting for its next attempt;
// available and failed are final.
const (
	AnalyticsPending   AnalyticsStatus = "pending"
	AnalyticsAvailable AnalyticsStatus = "available"
	AnalyticsFailed    AnalyticsStatus = "failed"
)

// Speaker is who said a transcript segment. Two-channel recordings put the
// customer on the left and the agent on the right, which is how a provider
// tells them apart; a segment of a mono recording transcribed by a provider
// that cannot tell is SpeakerUnknown.
type Speaker string

// The speakers.
const (
	SpeakerAgent    Speaker = "agent"
	SpeakerCustomer Speaker = "customer"
	SpeakerUnknown  Speaker = "unknown"
)

// TranscriptSegment is one stretch of speech: who spoke, from when to when
// (seconds from the start of the recording) and what they said.
type TranscriptSegment struct {
	Speaker Speaker `json:"speaker"`
	Start   float64 `json:"start"`
	End     float64 `json:"end"`
	Text    string  `json:"text"`
}

// Transcript is what a Transcriber heard: the segments in order of their
// start, the language it heard (or was told), and the length of the audio in
// seconds (0 when the provider did not say).
type Transcript struct {
	Language string              `json:"language"`
	Duration float64             `json:"duration"`
	Segments []TranscriptSegment `json:"segments"`
}

// Transcriber turns a recording into a transcript. contentType is the
// audio's type (audio/wav for every driver's recordings); language is an
// ISO-639-1 hint, empty to let the provider detect it. Implementations are
// the providers of internal/analytics (a simulated one and an HTTP client of
// Whisper-compatible servers); an error is retried by the caller, so a
// Transcriber need not retry itself.
type Transcriber interface {
	Transcribe(ctx context.Context, audio io.Reader, contentType, language string) (Transcript, error)
}

// ScoreParts are the parts a call's score is made of, each 0-100, with the
// measures they come from, so that a reviewer sees why a call scored as it
// did. How each is computed is internal/analytics's package doc.
type ScoreParts struct {
	Sentiment int `json:"sentiment"`
	// TalkRatio is nil when the transcript does not say who spoke.
	TalkRatio *int `json:"talk_ratio"`
	Silence   int  `json:"silence"`
	Keywords  int  `json:"keywords"`
	// AgentTalkShare is the agent's share of the speech (0-1), nil with
	// TalkRatio.
	AgentTalkShare *float64 `json:"agent_talk_share"`
	// SilenceShare is the share of the recording without speech (0-1).
	SilenceShare float64 `json:"silence_share"`
	// KeywordsHit names the agent's good-practice phrases heard.
	KeywordsHit []string `json:"keywords_hit"`
}

// CallAnalytics is a call's speech analysis: its transcript, an extractive
// summary and a score of 0-100 with its parts. There is at most one per
// call. Score, ScoreParts and FinishedAt are set once it is available; Error
// says why the last attempt failed (and, when failed, why it gave up).
type CallAnalytics struct {
	ID         int64               `json:"id"`
	TenantID   int64               `json:"tenant_id"`
	CallID     int64               `json:"call_id"`
	CallUUID   string              `json:"call_uuid"`
	Status     AnalyticsStatus     `json:"status"`
	Language   string              `json:"language"`
	Duration   float64             `json:"duration_seconds"`
	Transcript []TranscriptSegment `json:"transcript"`
	Summary    string              `json:"summary"`
	Score      *int                `json:"score"`
	ScoreParts *ScoreParts         `json:"score_parts"`
	// Provider names the Transcriber that made it (sim, http).
	Provider      string     `json:"provider"`
	Attempts      int        `json:"attempts"`
	Error         string     `json:"error"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	FinishedAt    *time.Time `json:"finished_at"`
}

// MaxTranscriptSegments bounds a stored transcript (about four hours of
// speech in sentences); a provider's longer answer is cut there.
const MaxTranscriptSegments = 10000

// Validate checks a finished analysis before it is stored.
func (a *CallAnalytics) Validate() error {
	p := Problems{}
	switch a.Status {
	case AnalyticsAvailable:
		if a.Score == nil || *a.Score < 0 || *a.Score > 100 {
			p.Add("score", "must be between 0 and 100")
		}
		if a.ScoreParts == nil {
			p.Add("score_parts", "is required")
		}
	case AnalyticsFailed:
		if a.Error == "" {
			p.Add("error", "must say why the analysis failed")
		}
	default:
		p.Add("status", "must be available or failed")
	}
	if len(a.Transcript) > MaxTranscriptSegments {
		p.Add("transcript", "has more than 10000 segments")
	}
	for _, s := range a.Transcript {
		if s.Speaker != SpeakerAgent && s.Speaker != SpeakerCustomer && s.Speaker != SpeakerUnknown {
			p.Add("transcript", "speaker must be agent, customer or unknown")
			break
		}
		if math.IsNaN(s.Start) || math.IsNaN(s.End) || s.Start < 0 || s.End < s.Start {
			p.Add("transcript", "each segment must end at or after its start, from 0")
			break
		}
	}
	return p.Err()
}

// AnalyticsStore keeps the calls' analyses. Queueing and deferring are the
// analytics service's own bookkeeping and write no event; finishing writes
// call.analytics.available or call.analytics.failed in its transaction.
type AnalyticsStore interface {
	// QueueCallAnalytics files a pending analysis of the tenant's call,
	// due now, and returns it with created true; a call that already has
	// one keeps it, returned with created false (so following the log
	// twice analyses a call once). A call outside the tenant is
	// CodeNotFound.
	QueueCallAnalytics(ctx context.Context, tenantID, callID int64) (a CallAnalytics, created bool, err error)
	// DueCallAnalytics lists pending analyses whose next attempt is due at
	// now, across tenants, the longest due first, at most limit.
	DueCallAnalytics(ctx context.Context, now time.Time, limit int) ([]CallAnalytics, error)
	// DeferCallAnalytics records a failed attempt of a pending analysis:
	// one more attempt, its reason, and when to try again.
	DeferCallAnalytics(ctx context.Context, tenantID, id int64, reason string, next time.Time) (CallAnalytics, error)
	// FinishCallAnalytics stores the outcome of pending analysis a.ID (one
	// more attempt): available with its transcript, summary and score, or
	// failed with its error, and the event saying so. An analysis that is
	// no longer pending is CodeConflict: each finishes once.
	FinishCallAnalytics(ctx context.Context, a CallAnalytics) (CallAnalytics, error)
	// CallAnalytics reads the analysis of the tenant's call callID.
	CallAnalytics(ctx context.Context, tenantID, callID int64) (CallAnalytics, error)
}

// Speech analytics events (subject "call_analytics": the analysis's id, not
// the call's, since every "call" event carries a CallEventPayload; payload
// AnalyticsEventPayload).
const (
	EventCallAnalyticsAvailable = "call.analytics.available"
	EventCallAnalyticsFailed    = "call.analytics.failed"
)

// AnalyticsEventPayload is the payload of the call.analytics.* events: the
// analysis without its transcript (which can be long; GET
// /v1/calls/{id}/analytics has it), with the call's id and UUID so that a
// renderer links the call without another read.
type AnalyticsEventPayload struct {
	V          int             `json:"v"`
	ID         int64           `json:"id"`
	CallID     int64           `json:"call_id"`
	CallUUID   string          `json:"call_uuid"`
	Status     AnalyticsStatus `json:"status"`
	Language   string          `json:"language"`
	Duration   float64         `json:"duration_seconds"`
	Segments   int             `json:"segments"`
	Summary    string          `json:"summary"`
	Score      *int            `json:"score"`
	ScoreParts *ScoreParts     `json:"score_parts"`
	Provider   string          `json:"provider"`
	Attempts   int             `json:"attempts"`
	Error      string          `json:"error"`
	FinishedAt *time.Time      `json:"finished_at"`
}

// NewAnalyticsEventPayload records a as its events carry it.
func NewAnalyticsEventPayload(a CallAnalytics) AnalyticsEventPayload {
	return AnalyticsEventPayload{V: EventPayloadVersion, ID: a.ID, CallID: a.CallID, CallUUID: a.CallUUID, Status: a.Status,
		Language: a.Language, Duration: a.Duration, Segments: len(a.Transcript), Summary: a.Summary, Score: a.Score,
		ScoreParts: a.ScoreParts, Provider: a.Provider, Attempts: a.Attempts, Error: a.Error, FinishedAt: a.FinishedAt}
}
