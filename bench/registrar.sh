#!/usr/bin/env bash
# The SIP registrar and guard (issue 13's registrar and security part; the
# issue's table has no row for them, so the targets below are ours).
#
# 1. Authenticated REGISTER refreshes over UDP on 127.0.0.1 through the guard
#    and the registrar (digest check, store lookup on SQLite, binding update),
#    against a bare sipgo handler answering 200, alternating rounds in one
#    process. Target: at least 0.3 of the bare rate (a refresh costs a store
#    read and a digest; 10,000 phones at Expires 3600 need 3 a second).
# 2. The guard's cost per request, against sipgo parsing the same request,
#    alternating in one test binary. Target: at most 0.5 of the parse.
#
# Usage: bash bench/registrar.sh [rounds]   (BENCH_ROUND=seconds per side)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
bin=$(mktemp -d)/sip.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./internal/sip
cd internal/sip
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"

echo "REGISTER refreshes (16 phones, ${BENCH_ROUND:-3} s per side, 3 alternating rounds per run, medians)"
for r in $(seq "$rounds"); do
	"$bin" -test.run '^$' -test.bench 'RegisterRefresh' -test.benchtime 1x | grep -E '^Benchmark' |
		awk -v r="$r" '{
			for (i = 3; i + 1 <= NF; i += 2) v[$(i + 1)] = $i
			printf "  run %d: registrar %6.0f REGISTER/cpu-s  bare %6.0f REGISTER/cpu-s  ratio %.2f (target >= 0.3)\n",
				r, v["registrar-registers/cpu-s"], v["bare-registers/cpu-s"], v["ratio"]
		}'
done

echo "guard per request (ns/op)"
for r in $(seq "$rounds"); do
	"$bin" -test.run '^$' -test.bench 'GuardAdmit' -test.benchtime 200000x | grep -E '^Benchmark' |
		awk -v r="$r" '{ split($1, n, "/"); sub(/-[0-9]+$/, "", n[2]); v[n[2]] = $3 }
			END { printf "  run %d: admit %6.0f ns  parse %6.0f ns  ratio %.2f (target <= 0.5)\n",
				r, v["admit"], v["parse"], v["admit"] / v["parse"] }'
done
