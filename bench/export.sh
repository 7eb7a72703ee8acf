#!/usr/bin/env bash
# CSV export of call records (issue 12, row 4): the Voxloud telephony-events
# export of about a million records end to end through HTTP on SQLite and,
# when SWITCHBOARD_TEST_POSTGRES is set, PostgreSQL. Each round exports the
# same rows three ways in turn: the store's bare streaming read (scan), the
# export as served (stream) and the export as it was, pages of 500 (paged,
# the baseline). Prints, per engine, the figure, the target and the ratios
# to the baselines of the same run, and the load of the machine.
#
# Usage: bash bench/export.sh [rounds] [calls]   (defaults: 2 rounds, 1,100,000 calls
# seeded, of which 990,000 have ended and are exported)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
calls=${2:-1100000}
echo "== CSV export of $calls seeded calls (9 in 10 ended), $rounds rounds; load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
out=$(go test -run '^$' -bench 'CSVExport' -benchtime "${rounds}x" -timeout 60m ./internal/voxloud -args -export-calls "$calls" 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -E '^Benchmark|seeded'
echo "$out" | awk '
/^BenchmarkCSVExport\// {
	split($1, name, "/"); engine = name[2]; sub(/-[0-9]+$/, "", engine)
	for (i = 3; i < NF; i += 2) v[$(i+1)] = $i
	printf "%-9s export: %8.0f rows/s (target >= 500000: %s, %.2f of it)   %8.0f rows per CPU-second of this process\n",
		engine, v["stream-rows/s"], (v["stream-rows/s"] >= 500000 ? "met" : "MISSED"), v["stream-rows/s"] / 500000, v["stream-rows/cpu-s"]
	printf "%-9s baselines: paged export %.0f rows/s (ratio %.2f), bare scan %.0f rows/s (ratio %.2f); heap growth %.1f MB over %d rows\n",
		engine, v["paged-rows/s"], v["stream/paged"], v["scan-rows/s"], v["stream/scan"], v["heap-growth-MB"], v["rows"]
}'
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
