#!/usr/bin/env bash
# Issue 17's acceptance: UJET's GET /apps/api/v1/calls over 1,000,000 calls
# (SQLite, 50 agents, 3 queues), through the whole HTTP stack (Basic auth,
# the per-tenant limit off, filters, the batch reads of call data, agents,
# end users and menus, rendering), each page against Store.CDRs for the
# same page in alternating rounds: p50 and p99 of both and the ratio of the
# p99s (what the dialect adds to the store's query). Loading the million
# calls takes about a minute and a half.
#
# Usage: bash bench/ujet_calls.sh [rounds]   (default 100 pages of each kind)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-100}
go test -run '^$' -bench 'BenchmarkCallsList' -benchtime "${rounds}x" -timeout 30m ./internal/ujet | grep -E '^(Benchmark|\s)|p99|ratio'
