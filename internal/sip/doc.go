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
//     BYE on independent legs, and its media control (Play, Record) into RTP.
//     Each leg (leg.go) has a goroutine that does the engine's requests in
//     order, so no port call blocks the engine; inbound.go admits new
//     INVITEs (a trunk's call to its tenant's number, or a phone that
//     passes the digest challenge) and outbound.go places legs (every
//     contact of a device at once, or a carrier through its trunk);
//     media.go relays RTP between bridged legs, records, plays prompts
//     (prompts.go) and ends silent legs; refer.go hands a phone's hold,
//     SIP INFO digits and REFER to the engine; causes.go maps SIP statuses
//     to the engine's causes with their Q.850 values; logger.go keeps
//     sipgo's transport log from being flooded;
//   - the registrar (registrar.go): agents' phones register with their
//     sip_username and SIP password; several contacts per agent ring
//     together. Bindings live in memory per device (callcenter.DeviceName),
//     expire (Expires 3600 s by default, 60 s minimum with 423 below it,
//     24 h maximum), are kept in the store so that a restart keeps them
//     (Load, Flush), and OnChange announces each device's registered state.
//     The Registrar is the driver's Phones: Contacts gives the driver each
//     binding's URI with the address the REGISTER came from (NAT);
//   - digest authentication (auth.go), for REGISTER (401) and for the
//     driver's INVITE and REFER from phones (Authenticate, 407), so that
//     nobody relays calls without a password: MD5, and SHA-256 (RFC 7616)
//     when OfferSHA256 is set (baresip 1.0 gives up on a SHA-256
//     challenge), against the hashes the store keeps; qop=auth with
//     nonce-count replay checks; stateless nonces (issue time plus an HMAC)
//     that expire after 5 minutes with stale=true;
//   - the guard (guard.go): request validation (ValidateRequest: sipgo
//     v1.7.3 has none), lockout of a source after repeated failed digests
//     (10 in 60 s locks it out for 5 minutes, answered by silence),
//     scanner user-agents and unknown sources rate-limited, trusted
//     networks exempt, with counters;
//   - trunks (trunks.go, trunkhealth.go): carriers matched by source
//     address or credentials, outbound through a trunk with digest or IP
//     auth within its concurrent-call and calls-per-second limits, dial and
//     caller-id rules, and the outbound REGISTER and OPTIONS health checks.
//
// The realm. One server-wide digest realm (RegistrarOptions.Realm, the same
// as sqlstore.Options.SIPRealm; "switchboard" by default) serves every
// tenant, so the store hashes a SIP password when it is set and never keeps
// it. A username may exist in several tenants: when the host of To (REGISTER)
// or From (other requests) is a tenant's slug, or slug.<anything>, that
// tenant is meant; otherwise each tenant's hash is tried and the one that
// matches the response wins. Changing the realm invalidates every stored
// hash (the registrar logs the users concerned); the hashes carry the realm
// they were made in, so a stale one is never mistaken for a wrong password.
//
// Passwords and digest responses are never logged; failures are logged with
// the source address and username only.
//
// Media that is not SIP-specific (WAV prompts, the generated hold music,
// two-channel recordings) lives in internal/audio.
package sip
