// Package siptest drives real SIP peers for Switchboard's telephony tests:
// sipp (sip-tester) as carriers, agent phones and load generators, and
// baresip as a headless softphone controlled over its ctrl_tcp socket. It
// runs them as external processes on 127.0.0.1 only, bounded by a context
// and a call count, so a test of the SIP driver exercises the same wire
// protocol a carrier or a desk phone would, with no SIP library of ours on
// the far side (this package must not import sipgo).
//
// Beside the runners it has what the tests assert with: free loopback
// ports, RTP capture files generated for sipp's play_pcap_audio (a tone of
// a chosen frequency and length followed by RFC 4733 digits), a WAV reader
// that measures duration, per-channel level and tone presence (also in
// short windows, so a recorder's timing does not hide a tone), an RTP probe
// that counts packets, loss, jitter and digits per stream and either echoes
// what it hears or streams a tone of its own (standing in for the media of
// many calls in load tests), and a raw SIP client with digest for requests
// no well-behaved phone sends.
//
// Tools that are absent make a test skip, unless SWITCHBOARD_TEST_REQUIRE_SIP
// is set (CI sets it), when they make it fail.
package siptest
