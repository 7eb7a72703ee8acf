#!/usr/bin/env bash
# The dialer's simulation benchmark (issue 14): a campaign of 50 agents,
# answer rate 0.3 (a tenth of the answers machines), AHT 180 s, 8 simulated
# hours, run by `switchboard simulate-dialer` in virtual time with its
# progressive baseline in the same process. Targets: predictive occupancy
# >= 0.85, abandon <= 3 % in every rolling hour, connects per agent-hour
# >= 1.25x progressive, 8 simulated hours (both runs) in under 30 s of wall
# time. It prints the contract's seed (7) and then more seeds, so that the
# figures are not one lucky draw.
# Usage: bash bench/dialer.sh [seeds...] (default: 7 1 2 3 4 5)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/switchboard" ./cmd/switchboard
seeds=("$@")
[ ${#seeds[@]} -eq 0 ] && seeds=(7 1 2 3 4 5)
echo "== $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%5s %10s %9s %11s %15s %12s %9s %8s\n' seed occupancy abandon "worst hour" "connects/ag-h" "vs progr." "prog occ" "wall s"
fail=0
for seed in "${seeds[@]}"; do
  start=$(date +%s.%N)
  out=$("$tmp/switchboard" simulate-dialer --agents 50 --mode predictive --answer-rate 0.3 --machine-rate 0.1 \
    --aht 180 --hours 8 --seed "$seed" --json)
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  line=$(echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin); p = r["progressive"]
ok = r["occupancy"] >= 0.85 and r["max_window_abandon_rate"] <= 0.03 and r["connects_ratio"] >= 1.25
print("%.3f %.2f%% %.2f%% %.2f %.3fx %.3f %s" % (r["occupancy"], 100*r["abandon_rate"], 100*r["max_window_abandon_rate"],
    r["connects_per_agent_hour"], r["connects_ratio"], p["occupancy"], "ok" if ok else "MISSED"))')
  read -r occ ab worst cpah ratio pocc verdict <<<"$line"
  printf '%5s %10s %9s %11s %15s %12s %9s %8.2f %s\n' "$seed" "$occ" "$ab" "$worst" "$cpah" "$ratio" "$pocc" "$wall" "$verdict"
  [ "$verdict" = ok ] || fail=1
done
echo "targets: occupancy >= 0.85, worst rolling hour <= 3 %, connects >= 1.25x progressive, wall < 30 s (both runs)"
exit $fail
