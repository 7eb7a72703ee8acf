#!/usr/bin/env bash
# What the trunk table adds to every SIP call (issue 13, trunks): the
# inbound match of an INVITE's source among 10,000 trunks of 1,000 tenants,
# and an outbound slot taken and released within the trunk's limits, each
# measured against the parse of one carrier INVITE with its SDP (the
# baseline, sipgo's parser) in alternating rounds of one process. Targets:
# each at most a tenth of the parse (ratio <= 0.10), so that trunks cost
# the signalling path's 3,000 CPS knee (sip-research.md) under 1 % of a core.
# Usage: bash bench/trunks.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
go test -run '^$' -bench 'TrunkPath' -benchtime 20x -count "$rounds" ./internal/sip | grep -E '^Benchmark' |
	awk '{
		for (i = 3; i + 1 <= NF; i += 2) v[$(i + 1)] = $i
		printf "round %d: INVITE parse %6.0f ns (baseline)\n", ++round, v["ns/parse"]
		printf "  inbound match, 10,000 trunks  %6.0f ns  ratio to parse %.3f (target <= 0.10)%s\n",
			v["ns/match"], v["match/parse"], (v["match/parse"] <= 0.10 ? "" : "  MISSED")
		printf "  outbound slot take+release    %6.0f ns  ratio to parse %.3f (target <= 0.10)%s\n",
			v["ns/outbound"], v["outbound/parse"], (v["outbound/parse"] <= 0.10 ? "" : "  MISSED")
		printf "  both at 3,000 calls/s: %.2f %% of one core\n", (v["ns/match"] + v["ns/outbound"]) * 3000 / 1e7
	}'
go test -run '^$' -bench 'TrunkOutboundParallel' -count 1 ./internal/sip | grep -E '^Benchmark' |
	awk '{ printf "outbound take+release from every CPU at once: %s ns/op\n", $3 }'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
