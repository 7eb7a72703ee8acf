// Package engine is Switchboard's call engine: agent presence, the queues'
// automatic call distribution (ACD), the call state machine and the statistics
// a contact center is run by. It is pure logic over the domain types: it reads
// time from an injected clock and reaches telephony only through the interface
// it declares, so tests and the capacity simulator run hours of traffic in
// milliseconds and repeat exactly.
//
// This first part holds the deterministic building blocks: which members a
// queue rings for a call and in what order (acd.go), the Erlang C staffing
// model that estimates waits and checks the simulator (erlang.go), and the
// virtual clock (clock.go).
package engine
