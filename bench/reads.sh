#!/usr/bin/env bash
# Row 5 of issue 12: authenticated GET /v1/users?limit=50 through the whole
# server against a bare net/http handler serving the same bytes from memory
# (target: >= 0.5 of its requests per second), measured in one process with
# the targets alternating in 6 rounds, so that the ratios hold on a busy
# machine where the absolute figures do not. Also: the store's page of users
# alone, and what learning the tenant's sequence costs on each engine
# (PostgreSQL when SWITCHBOARD_TEST_POSTGRES is set).
# Usage: bash bench/reads.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
echo "== GET /v1/users?limit=50 (SQLite, 200 users, 8 clients) vs bare-static; machine load: $(cut -d' ' -f1-3 /proc/loadavg)"
go test -run '^$' -bench 'ListUsers' -benchtime 6000x -count "$runs" ./cmd/switchboard | grep -E '^Benchmark' |
	awk '{
		for (i = 3; i < NF; i += 2) v[$(i+1)] = $i
		printf "run %d: bare-static %.0f req/s, bare-store %.0f req/s\n", ++n, v["bare-static-req/s"], v["bare-store-req/s"]
		split("uncached cold warm warm-304", t, " ")
		for (j = 1; j <= 4; j++) {
			r = v[t[j] "/static"]
			printf "  %-9s %7.0f req/s  target >= 0.50 of bare-static  ratio %.3f  %s\n", t[j], v[t[j] "-req/s"], r, (r >= 0.5 ? "meets" : "misses")
		}
	}'
echo "== one page of 50 users from the store alone (SQLite)"
go test -run '^$' -bench 'Users' -benchmem -count "$runs" ./internal/sqlstore | grep -E '^Benchmark'
echo "== learning a tenant's sequence: point read vs an in-process signal (which misses other processes' writes)"
go test -run '^$' -bench 'EventHead' -count "$runs" ./internal/sqlstore | grep -E '^Benchmark'
