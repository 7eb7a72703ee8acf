#!/usr/bin/env bash
# Webhook delivery (issue 12, row 6): drain throughput against a bare HTTP
# client posting to the same receiver in the same iteration, and latency from
# append to arrival at 5,000 events/s offered, against the rate the same
# appenders reach with no dispatcher in the same iteration. SQLite is the
# target; PostgreSQL is reported when SWITCHBOARD_TEST_POSTGRES is set.
# Prints, per round, the figure, the target and the ratio to its baseline.
# Usage: bash bench/webhooks.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
go test -run '^$' -bench 'Delivery' -benchtime 1x -count "$rounds" -timeout 30m ./internal/webhook | tee "$out" | grep -E '^Benchmark' || true
echo "machine: load average $(cut -d' ' -f1-3 /proc/loadavg) after the run"
echo
# Benchmark lines carry "value unit" pairs after the iteration count and ns/op.
awk '
/^BenchmarkDelivery\// {
	split($1, name, "/"); engine = name[2]; kind = name[3]; sub(/-[0-9]+$/, "", kind)
	delete m
	for (i = 3; i < NF; i += 2) m[$(i+1)] = $i
	if (kind == "drain") {
		target = (engine == "sqlite") ? ">= 10000/s" : "(reported)"
		met = (engine == "sqlite") ? ((m["deliveries/s"] >= 10000) ? "met" : "missed") : "-"
		printf "%-8s drain    %7.0f deliveries/s  target %-11s %-6s | bare client %7.0f posts/s, ratio %.2f | CPU %5.1f us/delivery vs %5.1f us/bare post -> %6.0f/s on 2 idle cores\n",
			engine, m["deliveries/s"], target, met, m["bare-posts/s"], m["ratio-vs-bare"], m["cpu-µs/delivery"], m["cpu-µs/bare-post"], 2e6 / m["cpu-µs/delivery"]
	} else if (kind == "latency") {
		target = (engine == "sqlite") ? "< 100 ms" : "(reported)"
		met = (engine == "sqlite") ? ((m["p99-ms"] < 100 && m["events/s"] >= 4750) ? "met" : "missed") : "-"
		printf "%-8s latency  p99 %6.1f ms (p50 %5.1f)   target %-11s %-6s | offered 5000/s, achieved %5.0f/s = %.2f of offered; store alone %5.0f/s, ratio %.2f\n",
			engine, m["p99-ms"], m["p50-ms"], target, met, m["events/s"], m["events/s"] / 5000, m["events/s-store-alone"], m["events/s"] / m["events/s-store-alone"]
	}
}' "$out"
