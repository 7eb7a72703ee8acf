#!/usr/bin/env bash
# Issue 16's acceptance: Voiso's CDR list over 1,000,000 call records. Seeds
# a SQLite database with "switchboard seed-calls" (cached under bench/data/,
# shared with bench/cdr.sh), then measures through the store, in alternating
# rounds, S.CDRs alone (the store query), S.Records of type call and
# S.Records of every type:
#   - a filtered first page of 100 with its total (one agent's inbound calls
#     started in a random week): p50, p99 (target < 50 ms) and the ratio of
#     each p99 to S.CDRs';
#   - a cursor walk of every record in pages of 1,000, each with its total:
#     rows per second (target >= 200,000) and the ratio to S.CDRs'.
# Each also reports CPU time, which a machine shared with other work
# depresses far less than wall-clock time.
#
# Usage: bash bench/voiso_cdrs.sh
#   VOISO_ROWS=1000000   the size of the database (default 1,000,000)
#   VOISO_ITER=500       rounds of the filtered page (default 500)
#   VOISO_WALKS=3        cursor walks of each way (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
data=$PWD/bench/data
end=2026-12-01T00:00:00Z
n=${VOISO_ROWS:-1000000}
iter=${VOISO_ITER:-500}
walks=${VOISO_WALKS:-3}
mkdir -p "$data"
go build -o "$data/switchboard" ./cmd/switchboard
db=$data/calls-$n.db
if ! grep -qs "\"rows\":$n," "$data/calls-$n.json"; then
	rm -f "$db" "$db-wal" "$db-shm"
	echo "== seeding $n calls into $db"
	start=$(date +%s)
	"$data/switchboard" seed-calls --db "sqlite:$db" --rows "$n" --end "$end" >"$data/calls-$n.json"
	echo "   seeded in $(( $(date +%s) - start )) s: $(cat "$data/calls-$n.json")"
fi
export SWITCHBOARD_CDR_BENCH_DBS="sqlite=sqlite:$db" SWITCHBOARD_CDR_BENCH_END=$end
echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== filtered first page of 100 with its total (p99 over $iter random agents and weeks)"
go test -run '^$' -bench 'VoisoCDRFilteredPage' -benchtime "${iter}x" -timeout 60m ./internal/sqlstore | tee "$data/voiso-page.txt" |
	awk '/^Benchmark/ {
		for (i = 2; i <= NF; i++) if ($i ~ /^p99-ms-/) {
			w = substr($i, 8)
			for (j = 2; j <= NF; j++) {
				if ($j == "p50-ms-" w) p50 = $(j-1)
				if ($j == "ratio-" w) ratio = $(j-1)
				if ($j == "rows/page") rows = $(j-1)
				if ($j == "cpu-ms-" w) cpu = $(j-1)
			}
			printf "%-8s p50 %7.2f ms   p99 %7.2f ms   target 50 ms   ratio to cdrs %5.2f   CPU %6.2f ms/page   rows/page %s\n", w, p50, $(i-1), ratio, cpu, rows
		}
	}'
echo "== cursor walk of every record, pages of 1,000 ($walks walks of each way)"
go test -run '^$' -bench 'VoisoCDRWalk' -benchtime "${walks}x" -timeout 60m ./internal/sqlstore | tee "$data/voiso-walk.txt" |
	awk '/^Benchmark/ {
		for (i = 2; i <= NF; i++) if ($i ~ /^rows\/s-/) {
			w = substr($i, 8)
			for (j = 2; j <= NF; j++) {
				if ($j == "ratio-" w) ratio = $(j-1)
				if ($j == "rows") rows = $(j-1)
				if ($j == "rows/cpu-s-" w) cpu = $(j-1)
			}
			printf "%-8s %8.0f rows/s   target 200000   ratio to cdrs %5.2f   %8.0f rows per CPU-second   rows %s\n", w, $(i-1), ratio, cpu, rows
		}
	}'
