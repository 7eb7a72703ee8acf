#!/usr/bin/env bash
# The SIP driver's benchmarks (issue 13), against the built binary run as its
# own process, with sipp on the same machine:
#   signalling  calls per second through the B2BUA (carrier sipp -> DID ->
#               queue -> sipp agents, no media) vs a bare sipgo UAS answering
#               the same sipp scenario directly, rounds alternating, closed
#               loop with 50 calls in flight; target ratio >= 0.6.
#   media       250, 500 and 1,000 concurrent bridged and recorded G.711 calls
#               (sipp signals; two Go RTP probes carry the media: a tone from
#               the carrier's side, measured and echoed at the agents' side,
#               measured again back at the carrier's), CPU of the server and
#               of the load generators, the server's RSS, loss and jitter
#               both ways; target 1,000 with < 1 % loss.
# Usage: bash bench/sip.sh [signalling|media|all] (default all)
# Env: SWITCHBOARD_SIP_BENCH_ROUNDS (3), SWITCHBOARD_SIP_BENCH_CALLS (3000),
#      SWITCHBOARD_SIP_MEDIA_LEVELS (250,500,1000),
#      SWITCHBOARD_SIP_MEDIA_RAMP_CPS (50), SWITCHBOARD_SIP_MEDIA_HOLD_SECONDS (15).
# Needs sipp (apt-get install sip-tester).
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/switchboard" ./cmd/switchboard
go test -c -o "$tmp/bareuas.test" ./internal/sip
export SWITCHBOARD_BIN="$tmp/switchboard" SWITCHBOARD_SIP_BARE_UAS_BIN="$tmp/bareuas.test"
ulimit -n 65536 2>/dev/null || true
echo "== $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(sipp -v 2>/dev/null | grep -o 'SIPp v[^ ]*' | head -1)"
bench=()
case $which in
signalling) bench=(SIPSignalling) ;;
media) bench=(SIPMedia) ;;
all) bench=(SIPSignalling SIPMedia) ;;
*) echo "usage: $0 [signalling|media|all]" >&2; exit 2 ;;
esac
for b in "${bench[@]}"; do
	echo "== Benchmark$b"
	go test -run '^$' -bench "^Benchmark$b\$" -benchtime 1x -count 1 -timeout 40m ./cmd/switchboard |
		grep -E '^(round|signalling|media|           |Benchmark|--- |    sip_bench|FAIL|ok)' || true
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
