// Package engine is Switchboard's call engine: agent availability, the queues'
// automatic call distribution (ACD), the call state machine and click-to-call,
// and the routing of conversations (chats) through the same queues.
// It is pure logic over the domain types: it reads time from an injected Clock
// and reaches telephony only through the ports it declares (telephony.go), so
// tests and the capacity simulator run hours of traffic in milliseconds and
// repeat exactly.
//
// The files: acd.go ranks a queue's members as its strategy says (the
// reference ordering); pool.go keeps each queue's free members in that order
// as they change, so that choosing whom to ring costs O(log N) in the queue's
// members rather than a ranking of all of them on every offer; queue.go takes
// inbound calls through their queues; ivr.go runs IVR menus (prompt, digits,
// timeout, repeats, submenus) before a call reaches its queue or agent;
// outbound.go places click-to-calls; schedule.go callbacks and scheduled
// calls; dial.go campaign dials (Engine.Dial, which reports each dial's
// outcome to the dialer and lets go of a person who found no agent within
// the abandon time) and the queue's pacing figures (Engine.PacingView);
// transfer.go blind transfers; chattypes.go and chat.go route
// conversations to agents with chat capacity (the rules are in chat.go's
// doc comment) and chatlive.go reports them in live views and Stats;
// core.go holds the engine's state,
// agents, hang-ups, observers and Close; telephony.go the driver ports;
// erlang.go the Erlang C staffing model; clock.go the clocks.
//
// All state lives in memory under one lock, and nothing under that lock waits
// on I/O: the engine numbers new calls from an in-memory CallIDs source, hands
// every change of a call to its Observer (which only queues it: the call
// service persists changes off the lock, in batches), and drives telephony
// through ports whose methods only start work and report back later through
// LegEvent and Inbound, never from inside a call the engine made. A slow
// database or a slow phone therefore never holds up another tenant's routing.
package engine
