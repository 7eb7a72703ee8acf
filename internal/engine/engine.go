// Package engine is Switchboard's call engine: agent availability, the queues'
// automatic call distribution (ACD), the call state machine and click-to-call.
// It is pure logic over the domain types: it reads time from an injected Clock
// and reaches telephony only through the Telephony interface it declares, so
// tests and the capacity simulator run hours of traffic in milliseconds and
// repeat exactly.
//
// The files: acd.go plans which members a queue rings and in what order;
// queue.go takes inbound calls through their queues; outbound.go places
// click-to-calls; core.go holds the engine's state, agents, hang-ups and
// observers; erlang.go is the Erlang C staffing model; clock.go the clocks.
//
// All state lives in memory under one lock. The engine reports every change of
// a call to its Observer while holding that lock, which is how the server
// persists calls and their events in order; drivers report back only from
// their own callbacks, never from inside a call the engine made, so holding
// the lock while driving the telephony cannot deadlock.
package engine
