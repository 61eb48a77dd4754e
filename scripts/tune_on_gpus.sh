#!/usr/bin/env bash
# Tune on every visible GPU of this machine: one chief (no GPU, serves the trials) and one
# worker per GPU, all started with the same helpers.tune arguments.
#
#   usage: scripts/tune_on_gpus.sh DATASET --space SPACE --dir DIR [helpers.tune options...]
#   e.g.   scripts/tune_on_gpus.sh cifar10 --space rate-maxnorm --dir results/tuning/cifar-b
#
# GPUs: $CUDA_VISIBLE_DEVICES (comma-separated) if set, else every GPU `nvidia-smi` lists.
# Environment: PYTHON (default .venv/bin/python), TUNE_HOST (default 127.0.0.1),
# TUNE_PORT (default 8476), TUNE_RESTARTS (default 3: a worker that dies is started
# again, with the same --worker-id, so it re-runs the trial it was training).
# Logs: DIR/logs/chief.log and DIR/logs/<host>-gpu<N>.log. Run the same command again
# after an interruption: the search continues from DIR/state.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
HOST=${TUNE_HOST:-127.0.0.1}
PORT=${TUNE_PORT:-8476}
RESTARTS=${TUNE_RESTARTS:-3}

die() { echo "tune_on_gpus.sh: $*" >&2; exit 2; }

[ $# -gt 0 ] || die "usage: scripts/tune_on_gpus.sh DATASET --space SPACE --dir DIR [options...]"
DIR=""
prev=""
for arg in "$@"; do
  case "$arg" in
    --chief|--chief=*|--worker|--worker=*|--worker-id|--worker-id=*)
      die "$arg is set by this script (chief on $HOST:$PORT, one worker per GPU)" ;;
    --dir=*) DIR=${arg#--dir=} ;;
  esac
  [ "$prev" = "--dir" ] && DIR=$arg
  prev=$arg
done
[ -n "$DIR" ] || die "--dir DIR is required"

if [ -n "${CUDA_VISIBLE_DEVICES+set}" ]; then
  IFS=, read -r -a GPUS <<< "${CUDA_VISIBLE_DEVICES}"
else
  mapfile -t GPUS < <(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null | tr -d ' ')
fi
[ "${#GPUS[@]}" -gt 0 ] && [ -n "${GPUS[0]}" ] || die "no GPU visible (CUDA_VISIBLE_DEVICES is empty or \
nvidia-smi lists none); on CPU run: $PY -m helpers.tune $*"

mkdir -p "$DIR/logs"
NAME=$(hostname -s 2>/dev/null || echo host)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
trap 'cleanup; exit 130' INT TERM

CUDA_VISIBLE_DEVICES= "$PY" -m helpers.tune "$@" --chief "$HOST:$PORT" >> "$DIR/logs/chief.log" 2>&1 &
CHIEF=$!
PIDS+=("$CHIEF")
echo "chief on $HOST:$PORT (pid $CHIEF), workers on GPUs ${GPUS[*]}; logs in $DIR/logs/"

for gpu in "${GPUS[@]}"; do
  id="$NAME-gpu$gpu"
  (
    child=""
    trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 143' INT TERM
    for try in $(seq 0 "$RESTARTS"); do
      CUDA_VISIBLE_DEVICES=$gpu "$PY" -m helpers.tune "$@" --worker "$HOST:$PORT" --worker-id "$id" \
        >> "$DIR/logs/$id.log" 2>&1 &
      child=$!
      wait "$child"
      status=$?
      [ "$status" -eq 0 ] && exit 0
      [ "$status" -eq 2 ] && exit 2  # bad arguments: restarting would not help
      kill -0 "$CHIEF" 2>/dev/null || exit "$status"
      [ "$try" -lt "$RESTARTS" ] || break
      echo "[$(date -u +%FT%TZ)] worker $id exited with $status; restart $((try + 1))/$RESTARTS" \
        >> "$DIR/logs/$id.log"
      sleep 5
    done
    exit 1
  ) &
  PIDS+=("$!")
done

wait "$CHIEF"
status=$?
# Workers stop by themselves once the chief has told them so; one that never reached the
# chief would wait for it (up to an hour), so give them a minute, then stop them.
for _ in $(seq 60); do
  alive=0
  for p in "${PIDS[@]:1}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ "$alive" -eq 0 ] && break
  [ "$status" -eq 0 ] || break
  sleep 1
done
cleanup
for p in "${PIDS[@]:1}"; do wait "$p" 2>/dev/null; done
if [ "$status" -eq 0 ]; then
  echo "done: $DIR/trials.json"
else
  echo "chief exited with $status; see $DIR/logs/chief.log" >&2
fi
exit "$status"
