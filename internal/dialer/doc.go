// Package dialer runs outbound campaigns: it paces dials (preview,
// progressive, predictive), checks every lead against the rules before it is
// dialled (never an emergency number, never one on the do-not-call list,
// never a person who refused consent, never outside the calling hours in the
// lead's own time zone), writes each attempt to the compliance ledger before
// the call is placed, and applies each outcome's retry rule.
//
// It drives calls only through the engine (engine.Dial, engine.PacingView),
// so the same dialer runs on the simulated telephony and, unchanged, on SIP.
//
// Files:
//   - pacing.go: the pacing rule (Decide) and the estimates it divides by:
//     answer rate, talk-time distribution, the predictive horizon.
//   - rules.go: the checks of a lead before a dial, and calling hours.
//   - dialer.go, run.go: the running dialer: its tick, the hopper of leads,
//     the attempts in flight, the engine's reports, the rolling abandon
//     window, finishing.
//   - preview.go: leads offered to agents, accepted or skipped.
//   - service.go: switchboard.Dialer for the server: lifecycle on the store,
//     imports in the background, recovery after a cut run.
//   - memory.go, simulate.go: the simulator's in-memory store and the
//     simulated campaign behind `switchboard simulate-dialer`.
//
// Predictive pacing follows the weighting of the EIS patents (US 5,640,445):
// every busy agent counts by the chance that their call (and wrap-up) ends
// within a horizon, read from the measured talk times; the dialer keeps
// predicted-free ÷ answer-rate dials in flight. The horizon lengthens while
// the abandon rate of the rolling hour is under 60 % of the limit and
// shortens above it; at 85 % of the limit the dialer only dials for agents
// free now (progressive) until the hour's rate falls. Abandoned means a
// person answered and no agent was connected within 2 s (47 CFR 64.1200(a)(7)).
//
// Locking: the engine reports dial outcomes under its own lock, so reports
// only go into an inbox, drained on the clock's goroutine under the dialer's
// lock; the dialer calls the engine while holding its own lock, never the
// other way round.
package dialer
