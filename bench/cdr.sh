#!/usr/bin/env bash
# Issue 12, rows 1-3: call-record pages whose cost does not grow with the
# table. Seeds SQLite databases of 100k, 1M and 10M calls with
# "switchboard seed-calls" (cached under bench/data/, git-ignored: 10M rows
# are ~5 GB and take minutes), then measures p99 of each page through the
# store, in rounds that alternate between the databases, and the one-number
# page through the Voxloud HTTP API; prints each figure beside its target and
# its ratio to the 100k database of the same run (a ratio near 1 means the
# cost does not grow with the table). The queries as they were before issue
# 12 run beside them for a few rounds.
#
# Usage: bash bench/cdr.sh
#   CDR_SIZES="100000 1000000"   the databases (default 100000 1000000 10000000)
#   CDR_ITER=500                 rounds of the new queries (default 500)
#   CDR_LEGACY_ITER=5            rounds of the old queries (0 skips them)
#   CDR_PG_URL=postgres://…/db   also seed (1M rows, once) and measure this
#                                empty PostgreSQL database
set -euo pipefail
cd "$(dirname "$0")/.."
data=$PWD/bench/data
end=2026-12-01T00:00:00Z
sizes=${CDR_SIZES:-"100000 1000000 10000000"}
iter=${CDR_ITER:-500}
legacy_iter=${CDR_LEGACY_ITER:-5}
mkdir -p "$data"
go build -o "$data/switchboard" ./cmd/switchboard

label() { case $1 in 100000) echo 100k;; 1000000) echo 1M;; 10000000) echo 10M;; *) echo "$1";; esac; }

dbs=""
for n in $sizes; do
	db=$data/calls-$n.db
	if ! grep -qs "\"rows\":$n," "$data/calls-$n.json"; then
		rm -f "$db" "$db-wal" "$db-shm"
		echo "== seeding $n calls into $db"
		start=$(date +%s)
		"$data/switchboard" seed-calls --db "sqlite:$db" --rows "$n" --end "$end" >"$data/calls-$n.json"
		echo "   seeded in $(( $(date +%s) - start )) s: $(cat "$data/calls-$n.json")"
	fi
	dbs="$dbs${dbs:+,}$(label "$n")=sqlite:$db"
done
if [ -n "${CDR_PG_URL:-}" ]; then
	if ! grep -qs '"rows":1000000,' "$data/pg-1000000.json"; then
		echo "== seeding 1000000 calls into PostgreSQL"
		start=$(date +%s)
		"$data/switchboard" seed-calls --db "$CDR_PG_URL" --rows 1000000 --end "$end" >"$data/pg-1000000.json"
		echo "   seeded in $(( $(date +%s) - start )) s: $(cat "$data/pg-1000000.json")"
	fi
	dbs="$dbs,pg1M=$CDR_PG_URL"
fi
export SWITCHBOARD_CDR_BENCH_DBS=$dbs SWITCHBOARD_CDR_BENCH_END=$end
echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# table prints, for each benchmark line, every database's p99, the target and
# the ratio to the first database.
table() {
	awk '/^Benchmark/ {
		name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
		target = ""
		for (i = 2; i <= NF; i++) if ($i == "target-ms") target = $(i-1)
		for (i = 2; i <= NF; i++) if ($i ~ /^p99-ms-/) {
			l = substr($i, 8); p50 = ""; ratio = ""
			for (j = 2; j <= NF; j++) {
				if ($j == "p50-ms-" l) p50 = $(j-1)
				if ($j == "ratio-" l) ratio = $(j-1)
			}
			printf "%-40s %-5s p50 %8.2f ms   p99 %8.2f ms   target %s ms   ratio to first %6.2f\n", name, l, p50, $(i-1), target, ratio
		}
	}'
}

echo "== call-record pages through the store (p99 over $iter random inputs per database)"
go test -run '^$' -bench 'CDRPages' -benchtime "${iter}x" -timeout 60m ./internal/sqlstore | tee "$data/store.txt" | table
echo "== one-number page through the Voxloud HTTP API (POST /api/v1/telephony-events)"
go test -run '^$' -bench 'TelephonyEventsSeeded' -benchtime "${iter}x" -timeout 60m ./internal/voxloud | tee "$data/http.txt" | table
if [ "$legacy_iter" -gt 0 ]; then
	echo "== the same pages with the queries as they were before issue 12 ($legacy_iter rounds)"
	SWITCHBOARD_CDR_BENCH_LEGACY=1 go test -run '^$' -bench 'CDRPages' -benchtime "${legacy_iter}x" -timeout 60m ./internal/sqlstore | tee "$data/legacy.txt" | table
fi
