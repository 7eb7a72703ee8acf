#!/usr/bin/env bash
# Runs Switchboard's benchmarks and prints their ratios to baselines measured in
# the same process. Figures from a shared 2-core machine move by ±20 % between
# runs; compare ratios, not absolute numbers. Usage: bash bench/run.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
# The rows of the scale table in BENCHMARKS.md each have a script of their own,
# printing figure, target and ratio to a baseline from the same run:
#   bench/cdr.sh       call-record pages at 100k/1M/10M rows (seeds bench/data/ first: long)
#   bench/voiso_cdrs.sh  Voiso's CDR list over 1M calls: filtered page, cursor walk (seeds first)
#   bench/export.sh    CSV export over a million records, both engines (about 12 minutes)
#   bench/reads.sh     GET /v1/users cold, warm and 304 against bare handlers
#   bench/webhooks.sh  webhook drain and latency at 5,000 events/s offered
#   bench/acd.sh       the ACD with 1,000 agents against 50 (run below)
#   bench/ivr.sh       calls through two IVR menus against calls straight to the queue (run below)
#   bench/trunks.sh    what SIP trunks add per call against an INVITE parse (issue 13, run below)
#   bench/registrar.sh SIP REGISTER refreshes vs a bare handler, the guard vs parsing
#   bench/dialer.sh    predictive vs progressive campaigns in simulation, six seeds (run below)
#   bench/conversations.sh  web-chat messages through the API and out as webhooks vs webhook delivery (run below)
#   bench/sip.sh       the B2BUA's calls/s vs a bare sipgo UAS, and 250/500/1,000 recorded
#                      calls (needs sipp; about 5 minutes; not run from here)
echo "== GET /v1/users?limit=50 through the whole server vs bare net/http handlers (SQLite; bench/reads.sh prints the ratios)"
go test -run '^$' -bench 'ListUsers' -benchtime 6000x -count "$rounds" ./cmd/switchboard | grep -E '^Benchmark'
echo "== one page of 50 users from the store alone (SQLite)"
go test -run '^$' -bench 'Users' -benchmem -count "$rounds" ./internal/sqlstore | grep -E '^Benchmark'
echo "== one outbox write (event + delivery row), serial and 16 concurrent (SQLite group commit)"
go test -run '^$' -bench 'AppendEvent' -count "$rounds" ./internal/sqlstore | grep -E '^Benchmark'
echo "== webhook delivery: backlog drain vs a bare client, and event-to-receiver latency at 5,000 events/s offered"
echo "   (PostgreSQL too when SWITCHBOARD_TEST_POSTGRES is set)"
go test -run '^$' -bench 'Delivery' -benchtime 1x -count "$rounds" ./internal/webhook | grep -E '^Benchmark'
echo "== call engine: 1,000 agents in 50 queues in virtual time"
go test -run '^$' -bench 'Engine' -benchtime 1x -count "$rounds" ./internal/sim | grep -E '^Benchmark'
echo "== inbound calls end to end through the call service with SQLite persistence vs the engine alone (1,000 agents, 50 queues)"
go test -run '^$' -bench 'PersistedRouting' -benchtime 1x -count "$rounds" ./internal/callcenter | grep -E '^Benchmark'
echo "== Voxloud telephony events over 100,000 call records (SQLite): pages through HTTP vs the store's own query, and the CSV export"
go test -run '^$' -bench 'TelephonyEvents' -benchtime 20x -count "$rounds" -timeout 30m ./internal/voxloud | grep -E '^Benchmark'
echo "== the ACD: one queue of 1,000 agents vs one of 50 at the same occupancy, per strategy"
bash bench/acd.sh "$rounds"
echo "== IVR menus: calls through a menu and its submenu vs straight to the queue (100 agents)"
bash bench/ivr.sh "$rounds"
echo "== the dialer: a predictive campaign vs its progressive baseline, 50 agents, 8 simulated hours"
bash bench/dialer.sh
echo "== conversations: web-chat messages through the API and out as webhooks vs webhook delivery in the same run (SQLite)"
bash bench/conversations.sh "$rounds"
echo "== SIP trunks: inbound match among 10,000 trunks and an outbound slot, against parsing one INVITE"
bash bench/trunks.sh "$rounds"
echo "== UJET: GET /apps/api/v1/calls over 1,000,000 calls, page p99 against the store's query"
bash bench/ujet_calls.sh
