#!/usr/bin/env bash
# The suite under load: run the slow lane (real daemon processes, doc tours) and the
# timing-sensitive fast tests RUNS times (default 5), with a CPU burner on every core, and
# report how many runs passed. Exits 0 only if every run passed.
#
#   bash tests/stress.sh                   # 5 runs of the slow lane + timing files
#   RUNS=2 bash tests/stress.sh            # fewer runs
#   bash tests/stress.sh tests/test_daemon_kill.py   # only these slow tests, 5 times
#
# Logs go to $STRESS_LOG_DIR (default: a new folder under /tmp), one file per run and lane.
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
PY=${PYTHON:-.venv/bin/python}
LOGS=${STRESS_LOG_DIR:-$(mktemp -d /tmp/tracker-stress.XXXXXX)}
mkdir -p "$LOGS"
SLOW_TARGETS=("$@")
[ ${#SLOW_TARGETS[@]} -eq 0 ] && SLOW_TARGETS=(tests)
# Fast tests that measure time or arrival order against real clocks and threads.
TIMING=(tests/test_coingecko_ratelimit.py tests/test_coingecko_retry.py tests/test_daemon_faults.py
        tests/test_storage_connection.py tests/test_fakegecko.py tests/test_daemon_schedule.py
        tests/test_daemon_quiet_log.py)

burners=()
stop_burners() {
    for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${burners[@]}"; do wait "$pid" 2>/dev/null; done
    burners=()
}
trap stop_burners EXIT
trap 'exit 130' INT TERM
for _ in $(seq "$(nproc)"); do
    "$PY" -c 'while True: pass' &
    burners+=($!)
done
echo "stress: $RUNS runs, ${#burners[@]} CPU burners (pids ${burners[*]}), logs in $LOGS"

passed=0
for run in $(seq "$RUNS"); do
    started=$(date +%s)
    ok=1
    "$PY" -m pytest -q -p no:cacheprovider -m slow "${SLOW_TARGETS[@]}" >"$LOGS/run$run-slow.log" 2>&1 || ok=0
    slow_s=$(( $(date +%s) - started ))
    if [ "$#" -eq 0 ]; then
        "$PY" -m pytest -q -p no:cacheprovider -m 'not slow' "${TIMING[@]}" >"$LOGS/run$run-timing.log" 2>&1 || ok=0
    fi
    took=$(( $(date +%s) - started ))
    summary=$(tail -n 1 "$LOGS/run$run-slow.log")
    if [ "$ok" -eq 1 ]; then
        passed=$((passed + 1))
        echo "run $run/$RUNS: passed in ${took}s (slow lane ${slow_s}s: $summary)"
    else
        echo "run $run/$RUNS: FAILED in ${took}s (slow lane ${slow_s}s: $summary); see $LOGS/run$run-*.log"
        grep -h -E "^(FAILED|ERROR) " "$LOGS/run$run-"*.log | head -10
    fi
done
echo "stress: $passed of $RUNS runs passed under $(nproc) CPU burners"
[ "$passed" -eq "$RUNS" ]
