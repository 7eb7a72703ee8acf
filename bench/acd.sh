#!/usr/bin/env bash
# The ACD at scale: one queue of 1,000 agents against one of 50 at the same
# occupancy (about 85 %), 20,000 calls each, for every strategy, in virtual
# time. Prints calls routed per CPU second of the process (steadier than wall time on a shared machine) for both and the ratio (target:
# 1,000 agents within 2x of 50, a ratio of at least 0.5; ringall rings the
# whole best tier on every call, so its cost grows with the tier by design).
# Usage: bash bench/acd.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
go test -run '^$' -bench 'ACDScale' -benchtime 1x -count "$rounds" ./internal/sim | grep -E '^Benchmark' |
	awk '{
		for (i = 5; i + 1 <= NF; i += 2) v[$(i + 1)] = $i
		split("leastrecent fewestcalls rrmemory linear random wrandom ringall", s, " ")
		printf "round %d\n", ++round
		for (j = 1; j <= 7; j++) {
			r = v[s[j] "-ratio"]
			printf "  %-12s 50 agents %8.0f calls/s  1,000 agents %8.0f calls/s  ratio %.2f (target >= 0.5)%s\n",
				s[j], v[s[j] "-50-calls/s"], v[s[j] "-1000-calls/s"], r, (s[j] == "ringall" ? " [rings the whole tier]" : "")
		}
	}'
