#!/usr/bin/env bash
# Stops the nodes that start-cluster.sh started: SIGTERM, then waits for them to exit.
#
#   deploy/local/stop-cluster.sh [-f|--force]
#
# On SIGTERM a node drains: its clients get SERVER_CLOSING, its users are set offline, it
# leaves the cluster and exits. Node 1 (which holds the embedded database, if any) is
# stopped last, once the others are gone. A node still running after STOP_TIMEOUT_S
# seconds (default 60) is reported, and killed with SIGKILL when --force is given.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STOP_TIMEOUT_S=${STOP_TIMEOUT_S:-60}
force=0
case "${1:-}" in
  "") ;;
  -f | --force) force=1 ;;
  -h | --help)
    sed -n '2,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    exit 0
    ;;
  *)
    echo "usage: $0 [-f|--force]" >&2
    exit 2
    ;;
esac

# Sends SIGTERM to the given nodes (names such as node2) and waits for all of them.
stop_nodes() {
  local name pid pids=() names=() deadline=$((SECONDS + STOP_TIMEOUT_S)) status=0
  for name in "$@"; do
    if pid=$(running_pid "$RUN_DIR/$name/node.pid"); then
      echo "$name: SIGTERM to pid $pid"
      kill -TERM "$pid"
      pids+=("$pid")
      names+=("$name")
    elif [[ -f $RUN_DIR/$name/node.pid ]]; then
      echo "$name: not running"
      rm -f "$RUN_DIR/$name/node.pid"
    fi
  done
  local k
  for k in "${!pids[@]}"; do
    while kill -0 "${pids[k]}" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.5
    done
    if kill -0 "${pids[k]}" 2>/dev/null; then
      if ((force)); then
        echo "${names[k]}: still running after $STOP_TIMEOUT_S s, SIGKILL" >&2
        kill -KILL "${pids[k]}" 2>/dev/null || true
        rm -f "$RUN_DIR/${names[k]}/node.pid"
      else
        echo "${names[k]}: still running after $STOP_TIMEOUT_S s (pid ${pids[k]}); use --force" >&2
        status=1
      fi
    else
      echo "${names[k]}: stopped"
      rm -f "$RUN_DIR/${names[k]}/node.pid"
    fi
  done
  return "$status"
}

[[ -d $RUN_DIR ]] || {
  echo "nothing to stop: no run directory $RUN_DIR"
  exit 0
}

# Every node directory but node1, then node1.
others=()
shopt -s nullglob
for dir in "$RUN_DIR"/node*/; do
  name=$(basename "$dir")
  [[ $name == node1 ]] || others+=("$name")
done
shopt -u nullglob

status=0
if ((${#others[@]})); then
  stop_nodes "${others[@]}" || status=1
fi
if [[ -d $RUN_DIR/node1 ]]; then
  stop_nodes node1 || status=1
fi
exit "$status"
