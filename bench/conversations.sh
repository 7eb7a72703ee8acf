#!/usr/bin/env bash
# Conversation messages (issue 15): messages per second posted by end users
# through the web-chat API and delivered as message.received webhooks, on
# SQLite, against the webhook delivery of as many events appended straight
# to the store, measured on the same server in the same iteration.
# Usage: bash bench/conversations.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
go test -run '^$' -bench 'ConversationMessages' -benchtime 1x -count "$rounds" -timeout 30m ./cmd/switchboard | grep -E '^Benchmark' || true
echo "machine: load average $(cut -d' ' -f1-3 /proc/loadavg) after the run"
