#!/usr/bin/env bash
# IVR menus in the engine: the same 20,000 inbound calls into one queue of 100
# agents (about 85 % occupancy, virtual time), dialled straight to the queue
# (the baseline) and through a menu and its submenu (two prompts, two digits a
# second apart), alternating in each round of one process. Prints calls per
# CPU second of the process for both and the ratio (target: a menu walk costs
# the engine at most twice a direct call, a ratio of at least 0.5).
# Usage: bash bench/ivr.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
go test -run '^$' -bench 'BenchmarkIVR$' -benchtime 1x -count "$rounds" ./internal/sim | grep -E '^Benchmark' |
	awk '{
		for (i = 5; i + 1 <= NF; i += 2) v[$(i + 1)] = $i
		printf "round %d  direct %8.0f calls/s  through 2 menus %8.0f calls/s  ratio %.2f (target >= 0.5)%s\n",
			++round, v["direct-calls/s"], v["menu-calls/s"], v["ratio"], (v["ratio"] >= 0.5 ? "" : "  MISSED")
	}'
