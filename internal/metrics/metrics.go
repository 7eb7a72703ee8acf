// Package metrics reports the contact center's state to Prometheus: the call
// engine's calls, conversations, agents and queues, read from memory at each scrape, and the
// totals only the database knows (webhook backlog and attempts, text
// messages, the event log), read with one aggregate query each. Reading state
// at scrape time rather than counting as things happen keeps the numbers
// right across restarts and whichever node did the work. The HTTP metrics
// are internal/httpapi's; both share one registry.
package metrics

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard/internal/engine"
	"switchboard/internal/sqlstore"
)

// Store is what the metrics read of the store.
type Store interface {
	// Counts reads the monitoring totals.
	Counts(ctx context.Context) (sqlstore.Counts, error)
	// ObserveWrites reports the latency of every write transaction.
	ObserveWrites(fn func(time.Duration))
}

// Options are the sources the metrics read at each scrape.
type Options struct {
	// Engine reports the call engine's state now.
	Engine func() engine.Stats
	// Behind is how many committed events the call engine has not applied.
	Behind func(ctx context.Context) (int64, error)
	Store  Store
	Log    *slog.Logger
}

// collector reads Options at each scrape.
type collector struct{ opt Options }

var (
	descCalls = prometheus.NewDesc("switchboard_calls_in_progress",
		"Calls in progress on this server, by status.", []string{"status"}, nil)
	descQueueWaiting = prometheus.NewDesc("switchboard_queue_calls_waiting",
		"Callers waiting in a queue for an agent.", []string{"tenant_id", "queue_id"}, nil)
	descQueueLongest = prometheus.NewDesc("switchboard_queue_longest_wait_seconds",
		"How long the caller waiting longest in a queue has waited; 0 when nobody waits.", []string{"tenant_id", "queue_id"}, nil)
	descChats = prometheus.NewDesc("switchboard_chats",
		"Conversations the engine routes on this server, by state: waiting, offered (not yet accepted), active, wrap_up.",
		[]string{"state"}, nil)
	descQueueChatsWaiting = prometheus.NewDesc("switchboard_queue_chats_waiting",
		"Conversations waiting in a queue for an agent.", []string{"tenant_id", "queue_id"}, nil)
	descQueueChatLongest = prometheus.NewDesc("switchboard_queue_chat_longest_wait_seconds",
		"How long the conversation waiting longest in a queue has waited; 0 when none waits.", []string{"tenant_id", "queue_id"}, nil)
	descAgents = prometheus.NewDesc("switchboard_agents",
		"Agents by routing state: offline, available, away (signed in, in a status that takes no calls), ringing, in_call, wrap_up.",
		[]string{"state"}, nil)
	descDeliveries = prometheus.NewDesc("switchboard_webhook_deliveries",
		"Webhook deliveries by status; status=\"pending\" is the backlog.", []string{"status"}, nil)
	descDeliveriesFailed = prometheus.NewDesc("switchboard_webhook_deliveries_failed_total",
		"Webhook deliveries that failed for good (every attempt failed, or the receiver answered 410).", nil, nil)
	descOldestDue = prometheus.NewDesc("switchboard_webhook_oldest_due_seconds",
		"How long the most overdue pending webhook delivery has been due; 0 when the dispatcher keeps up.", nil, nil)
	descAttempts = prometheus.NewDesc("switchboard_webhook_attempts_total",
		"Webhook delivery attempts by result: success, or the error class (timeout, connect, refused, http_status, redirect, other).",
		[]string{"result"}, nil)
	descSMS = prometheus.NewDesc("switchboard_sms_messages",
		"Text messages by direction and status.", []string{"direction", "status"}, nil)
	descLastEvent = prometheus.NewDesc("switchboard_event_log_last_id",
		"Id of the newest event in the event log.", nil, nil)
	descLag = prometheus.NewDesc("switchboard_event_log_lag_events",
		"Events in the log a consumer has not processed yet.", []string{"consumer"}, nil)
)

// Describe implements prometheus.Collector.
func (d *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, desc := range []*prometheus.Desc{descCalls, descQueueWaiting, descQueueLongest, descChats, descQueueChatsWaiting,
		descQueueChatLongest, descAgents, descDeliveries,
		descDeliveriesFailed, descOldestDue, descAttempts, descSMS, descLastEvent, descLag} {
		ch <- desc
	}
}

// Collect implements prometheus.Collector. When the database does not answer
// within a few seconds, its series are left out (and the failure logged) while
// the engine's are still reported.
func (d *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	counter := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, v, labels...)
	}
	s := d.opt.Engine()
	for status, n := range s.Calls {
		gauge(descCalls, float64(n), status)
	}
	for _, st := range engine.AgentStates {
		gauge(descAgents, float64(s.Agents[st]), st)
	}
	for _, q := range s.Queues {
		tid, qid := strconv.FormatInt(q.TenantID, 10), strconv.FormatInt(q.ID, 10)
		gauge(descQueueWaiting, float64(q.Waiting), tid, qid)
		gauge(descQueueLongest, q.LongestWait, tid, qid)
		gauge(descQueueChatsWaiting, float64(q.ChatsWaiting), tid, qid)
		gauge(descQueueChatLongest, q.ChatLongestWait, tid, qid)
	}
	for _, st := range engine.ChatStates {
		gauge(descChats, float64(s.Chats[st]), st)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := d.opt.Store.Counts(ctx)
	if err != nil {
		d.opt.Log.Warn("metrics: read counts from the database", "err", err)
		return
	}
	for status, n := range c.WebhookDeliveries {
		gauge(descDeliveries, float64(n), string(status))
	}
	counter(descDeliveriesFailed, float64(c.WebhookDeliveries["failed"]))
	gauge(descOldestDue, c.WebhookOldestDue.Seconds())
	for result, n := range c.WebhookAttempts {
		counter(descAttempts, float64(n), result)
	}
	for k, n := range c.Messages {
		gauge(descSMS, float64(n), k[0], k[1])
	}
	gauge(descLastEvent, float64(c.LastEventID))
	if behind, err := d.opt.Behind(ctx); err == nil {
		gauge(descLag, float64(behind), "call_engine")
	}
}

// Register adds the contact center's metrics to reg: the state read at each
// scrape, the latency of the store's write transactions, and the calls ended
// on this server by outcome, whose counter it returns for the call service to
// count into.
func Register(reg prometheus.Registerer, opt Options) (ended *prometheus.CounterVec) {
	ended = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_calls_ended_total",
		Help: "Calls that ended on this server since it started, by disposition (answered, missed, abandoned, failed, …).",
	}, []string{"disposition"})
	commits := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "switchboard_store_commit_duration_seconds",
		Help:    "Time from asking the store for a write transaction until it committed or failed, including the wait for SQLite's one writer.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	opt.Store.ObserveWrites(func(d time.Duration) { commits.Observe(d.Seconds()) })
	reg.MustRegister(&collector{opt: opt}, ended, commits)
	return ended
}
