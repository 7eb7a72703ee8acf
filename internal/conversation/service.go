package conversation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sms"
)

// Store is what the service needs of the store: the conversations
// themselves, and the few tenant objects they point at.
type Store interface {
	switchboard.ConversationStore
	// NumberOwner finds the tenant number an inbound message was sent to.
	NumberOwner(ctx context.Context, number string) (switchboard.PhoneNumber, error)
	Queue(ctx context.Context, tenantID, id int64) (switchboard.Queue, error)
	User(ctx context.Context, tenantID, id int64) (switchboard.User, error)
}

// Router is the engine's chat side, as the service uses it: *engine.Engine.
type Router interface {
	SetChatObserver(o engine.ChatObserver)
	QueueChat(t engine.ChatTask) error
	AcceptChat(id, agentID int64) error
	ReleaseChat(id int64, wrapUp bool)
	TransferChat(id, queueID int64, since time.Time) error
	RestoreChat(t engine.ChatTask, agentID int64)
	ClaimChat(t engine.ChatTask, agentID int64) error
	AgentChats(userID int64) []int64
}

// SMSSender sends a text through the tenant's SMS gateway: *sms.Service.
type SMSSender interface {
	Send(ctx context.Context, o sms.Outbound) (switchboard.Message, error)
}

// Options wire a Service.
type Options struct {
	Store  Store
	Router Router
	// SMS carries the sms channel; nil refuses SMS sends (the message is
	// stored failed).
	SMS SMSSender
	// Providers carry the other channels (whatsapp and any a provider
	// brings); web chat needs none, sms goes through SMS.
	Providers map[switchboard.ConversationChannel]Provider
	Blobs     switchboard.BlobStore
	// MediaURL, when set, gives providers the URL of an attachment they
	// are to send (a signed download link); nil sends media without one.
	MediaURL func(a switchboard.Attachment) string
	Now      func() time.Time
	Log      *slog.Logger
	// UploadTTL is how long an upload token is good (default 15 minutes).
	UploadTTL time.Duration
	// PollInterval bounds how long a watcher sleeps without a local wake,
	// so that changes made on other nodes are seen (default 1 s).
	PollInterval time.Duration
	// WhatsAppWindow is how long after the end user's last message
	// free-form messages may be sent on whatsapp (default 24 h); outside
	// it only templates may.
	WhatsAppWindow time.Duration
}

// Service implements switchboard.Conversations.
type Service struct {
	opt   Options
	store Store
	log   *slog.Logger
	now   func() time.Time

	apply *applier
	hub   *hub
	// locks serialise the service's own changes of one conversation with
	// the applier's (see lockConv).
	locks [64]sync.Mutex

	// sending counts, per tenant, the messages handed to a provider whose
	// provider id is not recorded yet: a receipt for an unknown id waits
	// for them (see Receipt).
	sendingMu sync.Mutex
	sending   map[int64]int

	startOnce sync.Once
	stopPoll  chan struct{}
	pollDone  chan struct{}
}

var _ switchboard.Conversations = (*Service)(nil)

// New returns the service; Open starts it.
func New(opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.UploadTTL <= 0 {
		opt.UploadTTL = 15 * time.Minute
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = time.Second
	}
	if opt.WhatsAppWindow <= 0 {
		opt.WhatsAppWindow = 24 * time.Hour
	}
	s := &Service{opt: opt, store: opt.Store, log: opt.Log, now: opt.Now, hub: newHub(), sending: map[int64]int{},
		stopPoll: make(chan struct{}), pollDone: make(chan struct{})}
	s.apply = newApplier(s)
	return s
}

// Open starts the service: it becomes the engine's chat observer, starts
// the goroutine that records the engine's decisions, and puts every open
// conversation back into the engine (a restart): queued ones wait in their
// queue again, held ones (assigned, in progress) are held by their agent
// again, or queued when that agent is gone or deactivated; dismissed ones
// stay out until their end user writes. Call it once, after the engine
// knows the tenants' queues and agents. (It is not named Start: that is
// switchboard.Conversations' start of a conversation.)
func (s *Service) Open(ctx context.Context) error {
	started := false
	s.startOnce.Do(func() {
		started = true
		s.opt.Router.SetChatObserver(s.apply)
		s.apply.start()
		go s.poll()
	})
	if !started {
		return errors.New("conversation: the service is already open")
	}
	open, err := s.store.OpenConversations(ctx)
	if err != nil {
		return fmt.Errorf("conversation: restore: %w", err)
	}
	var restored, queued int
	for _, c := range open {
		switch c.Status {
		case switchboard.ConversationQueued:
			if c.QueueID == nil {
				continue // waits for a transfer or an agent's claim
			}
			if err := s.opt.Router.QueueChat(task(c)); err != nil {
				s.log.Warn("conversation: restore to its queue", "tenant_id", c.TenantID, "conversation_id", c.ID, "err", err)
				continue
			}
			queued++
		case switchboard.ConversationAssigned, switchboard.ConversationInProgress:
			if c.AgentID != nil {
				u, err := s.store.User(ctx, c.TenantID, *c.AgentID)
				if err == nil && u.DeactivatedAt == nil {
					s.opt.Router.RestoreChat(task(c), *c.AgentID)
					restored++
					continue
				}
				if switchboard.ErrorCode(err) != switchboard.CodeNotFound && err != nil {
					return fmt.Errorf("conversation: restore: agent of %d: %w", c.ID, err)
				}
			}
			// The agent is gone: the conversation waits in its queue again.
			requeued, err := s.store.UpdateConversationFunc(ctx, c.TenantID, c.ID, func(c *switchboard.Conversation) (switchboard.ConversationUpdate, error) {
				if c.Status != switchboard.ConversationAssigned && c.Status != switchboard.ConversationInProgress {
					return switchboard.ConversationUpdate{}, errSkip
				}
				c.Status, c.AgentID = switchboard.ConversationQueued, nil
				return switchboard.ConversationUpdate{Event: switchboard.EventConversationRequeued}, nil
			})
			if errors.Is(err, errSkip) {
				continue
			}
			if err != nil {
				return fmt.Errorf("conversation: restore: requeue %d: %w", c.ID, err)
			}
			if requeued.QueueID != nil {
				if err := s.opt.Router.QueueChat(task(requeued)); err != nil {
					s.log.Warn("conversation: restore to its queue", "tenant_id", c.TenantID, "conversation_id", c.ID, "err", err)
				}
			}
			queued++
		}
	}
	s.log.Info("conversations restored", "open", len(open), "held", restored, "queued", queued)
	return nil
}

// Close stops the service: every change the engine reported is recorded
// before it returns (or ctx ends).
func (s *Service) Close(ctx context.Context) error {
	select {
	case <-s.stopPoll:
	default:
		close(s.stopPoll)
	}
	return s.apply.close(ctx)
}

// Sync waits until every routing decision the engine reported so far is
// recorded in the store, so that a read after it sees them (an agent who
// was just offered a conversation is seen holding it).
func (s *Service) Sync(ctx context.Context) error { return s.apply.sync(ctx) }

// poll wakes every watcher each PollInterval, for changes other nodes made.
func (s *Service) poll() {
	t := time.NewTicker(s.opt.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopPoll:
			return
		case <-t.C:
			s.hub.wakeAll()
		}
	}
}

// lockConv serialises changes of one conversation: the service's own
// (an engine call and its store write) and the applier's recording of the
// engine's decisions, so that a decision the engine made before the
// service's call is never written over the service's newer state. No code
// holding it waits for the applier.
func (s *Service) lockConv(id int64) func() {
	m := &s.locks[uint64(id)%uint64(len(s.locks))]
	m.Lock()
	return m.Unlock
}

// task is the engine's view of c.
func task(c switchboard.Conversation) engine.ChatTask {
	t := engine.ChatTask{ID: c.ID, TenantID: c.TenantID, Channel: c.Channel, Since: c.CreatedAt}
	if c.QueueID != nil {
		t.QueueID = *c.QueueID
	}
	if c.QueuedAt != nil {
		t.Since = *c.QueuedAt
	}
	return t
}

// errSkip aborts an UpdateConversationFunc that finds nothing to change.
var errSkip = errors.New("nothing to change")

// newToken returns a random 32-byte token (base64url) and its SHA-256.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(tok))
	return tok, h[:]
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

func invalid(field, why string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalid, Message: field + " " + why, Fields: map[string]string{field: why}}
}

// wrongStatus refuses a move from the conversation's current status.
func wrongStatus(c switchboard.Conversation, action string) error {
	return switchboard.Errorf(switchboard.CodeConflict, "conversation %d is %s: it cannot be %s", c.ID, c.Status, action)
}

func ptr[T any](v T) *T { return &v }

// held says whether the conversation's status has an agent holding it.
func held(st switchboard.ConversationStatus) bool {
	return st == switchboard.ConversationAssigned || st == switchboard.ConversationInProgress
}
