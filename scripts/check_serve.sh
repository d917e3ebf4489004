#!/usr/bin/env bash
# Scripted check of `vocmine serve` against a real local Prefect server (issue 9): start
# `prefect server start` on 127.0.0.1, serve the deployments, list them, trigger the scheduled folder
# pipeline once and wait for it to complete; then check the store. Everything stays on loopback.
# Usage: bash scripts/check_serve.sh   (from the repository root, after `python3 tasks.py test` or demo)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$REPO/.venv/bin"
WORK="$(mktemp -d)"
PORT="${PORT:-4217}"
export PREFECT_HOME="$WORK/prefect" DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false HF_HUB_OFFLINE=1
export PREFECT_LOGGING_LEVEL=WARNING

"$BIN/prefect" server start --host 127.0.0.1 --port "$PORT" > "$WORK/server.log" 2>&1 &
SERVER=$!
SERVE=""
cleanup() { [[ -n "$SERVE" ]] && kill "$SERVE" 2>/dev/null; kill "$SERVER" 2>/dev/null; true; }
trap cleanup EXIT
for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$PORT/api/health" > /dev/null; then break; fi
    sleep 1
done
curl -sf "http://127.0.0.1:$PORT/api/health" > /dev/null || { echo "server did not start"; cat "$WORK/server.log"; exit 1; }
export PREFECT_API_URL="http://127.0.0.1:$PORT/api"
echo "prefect server healthy on $PREFECT_API_URL"

mkdir -p "$WORK/inbox"
cat > "$WORK/inbox/survey.csv" <<'CSV'
response_id,date,score,branch,comment
r1,2026-03-02,9,Centro,"El personal fue muy amable, volveré"
r2,2026-03-02,3,Centro,El pedido llegó tarde y nadie contestó
r3,2026-03-05,7,Norte,Staff were lovely but checkout took ages
r4,2026-03-06,10,Norte,Excelente atención en tienda
CSV
sleep 6  # older than ingest-folder's settle time, so the file counts as complete

"$BIN/vocmine" serve --folder "$WORK/inbox" --cron "0 6 * * *" --store "$WORK/vocmine.duckdb" \
    --out "$WORK/out" --profile survey > "$WORK/serve.log" 2>&1 &
SERVE=$!
# (`prefect deployment ls` of prefect 3.8.8 sends limit=null, which this server rejects: ask the API.)
list_deployments() {
    curl -sf -X POST "$PREFECT_API_URL/deployments/filter" -H 'content-type: application/json' \
        -d '{"limit": 50, "sort": "NAME_ASC"}' \
        | "$BIN/python" -c 'import json,sys; [print(d["name"], d["flow_id"][:8], d.get("schedules") and "scheduled" or "") for d in json.load(sys.stdin)]'
}
COUNT=0
for _ in $(seq 1 120); do
    COUNT=$(list_deployments 2>/dev/null | wc -l || true)
    if [[ "$COUNT" -ge 5 ]]; then break; fi
    sleep 2
done
echo "registered deployments:"; list_deployments
[[ "$COUNT" -ge 5 ]] || { echo "deployments not registered"; cat "$WORK/serve.log"; exit 1; }

"$BIN/prefect" deployment run 'vocmine-folder-pipeline/scheduled' --watch --watch-timeout 900
"$BIN/python" - "$WORK/vocmine.duckdb" "$WORK/out/report.html" <<'PY'
import sys, duckdb, pathlib
con = duckdb.connect(sys.argv[1], read_only=True)
responses = con.execute("select count(*) from responses").fetchall()[0][0]
annotated = con.execute("select count(*) from annotations where level = 'sentence'").fetchall()[0][0]
print(f"store: {responses} responses, {annotated} sentence annotations; report: {pathlib.Path(sys.argv[2]).exists()}")
assert responses == 4 and annotated > 0 and pathlib.Path(sys.argv[2]).exists()
PY
echo "check_serve: OK"
