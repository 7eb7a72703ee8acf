// Package sip is Switchboard's real telephony: a SIP driver that implements
// the engine's ports (engine.Driver) over SIP and RTP, so the same engine
// that drives the simulator drives real phones and carriers. It is the only
// package that imports sipgo and diago (the sipgo author's dialog and media
// library, which gives RTP sessions, G.711, RFC 4733 DTMF, re-INVITE and
// REFER handling).
//
// The parts, each in its own file:
//
//   - the driver (driver.go): listeners, the B2BUA that turns the engine's
//     call control (Originate, Answer, Bridge, Hangup) into INVITE, CANCEL and
//     BYE on independent legs, and its media control (Play, Record) into RTP;
//   - the registrar (registrar.go): agents' phones register with their
//     sip_username and SIP password (digest, HMAC nonces); several contacts
//     per agent ring together;
//   - the guard (guard.go): request validation, brute-force lockout per
//     source, scanners and unknown sources rate-limited;
//   - trunks (trunks.go, trunkhealth.go): carriers matched by source
//     address or credentials, outbound through a trunk with digest or IP
//     auth within its concurrent-call and calls-per-second limits, dial and
//     caller-id rules, and the outbound REGISTER and OPTIONS health checks.
//
// Media that is not SIP-specific (WAV prompts, the generated hold music,
// two-channel recordings) lives in internal/audio.
package sip
