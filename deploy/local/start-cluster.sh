#!/usr/bin/env bash
# Starts N chat nodes of the built jar on this machine, in the background.
#
#   deploy/local/start-cluster.sh [N]        (N defaults to 3)
#
# Node i (1..N) listens on TCP 6000+i, HTTP/WebSocket 8080+i and Hazelcast 5701+i, all
# nodes form one cluster, and node 1 runs the embedded MariaDB (127.0.0.1:3307) that the
# other nodes use, unless CHAT_DB_URL is set, in which case every node uses that database.
# Logs, pid files and node 1's data go under the run directory. See README.md next to this
# script for the settings.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

JAR=${CHAT_JAR:-$repo_dir/deploy/target/chat-node.jar}
JAVA=${JAVA:-java}
JAVA_OPTS=${JAVA_OPTS:--Xms64m -Xmx512m -XX:NewSize=48m -XX:MaxHeapFreeRatio=20 -XX:MinHeapFreeRatio=10 -XX:G1PeriodicGCInterval=60000 -XX:TrimNativeHeapInterval=20000}
HOST=${CHAT_LOCAL_HOST:-127.0.0.1}
TCP_BASE=${TCP_BASE:-6000}
HTTP_BASE=${HTTP_BASE:-8080}
CLUSTER_BASE=${CLUSTER_BASE:-5701}
DB_PORT=${CHAT_DB_EMBEDDED_PORT:-3307}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-180}

usage() {
  sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
  exit "${1:-0}"
}

die() {
  echo "start-cluster: $*" >&2
  exit 1
}

# ---------------------------------------------------------------- arguments and checks

case "${1:-}" in
  -h | --help) usage 0 ;;
esac
[[ $# -le 1 ]] || usage 2
count=${1:-3}
if ! [[ $count =~ ^[0-9]+$ ]] || ((count < 1 || count > 50)); then
  die "N must be a number from 1 to 50, was '$count'"
fi

[[ -f $JAR ]] || die "no jar at $JAR: build it first with 'mvn -DskipTests package'"
command -v "$JAVA" >/dev/null || die "'$JAVA' not found: install a JDK 17+ or set JAVA"
command -v curl >/dev/null || die "curl is needed to wait for the nodes to become ready"
read -r -a java_opts <<<"$JAVA_OPTS"
# -XX:TrimNativeHeapInterval came with JDK 17.0.9: an older JVM would refuse to start
if ! "$JAVA" "${java_opts[@]}" -version >/dev/null 2>&1; then
  kept=()
  for opt in "${java_opts[@]}"; do
    [[ $opt == -XX:TrimNativeHeapInterval=* ]] || kept+=("$opt")
  done
  "$JAVA" "${kept[@]}" -version >/dev/null 2>&1 || die "'$JAVA' refuses JAVA_OPTS: $JAVA_OPTS"
  echo "start-cluster: this JVM does not know -XX:TrimNativeHeapInterval (JDK 17.0.9+): started without it" >&2
  java_opts=("${kept[@]}")
fi

shopt -s nullglob
for pid_file in "$RUN_DIR"/node*/node.pid; do
  if pid=$(running_pid "$pid_file"); then
    die "a node is still running (pid $pid, $pid_file): run deploy/local/stop-cluster.sh first"
  fi
done
shopt -u nullglob

case "$RUN_DIR/" in
  /tmp/* | "${TMPDIR:-/tmp}"/*)
    echo "start-cluster: note: $RUN_DIR is under the temporary directory; the embedded" \
      "database wipes data kept there at every start" >&2
    ;;
esac
mkdir -p "$RUN_DIR"

# ---------------------------------------------------------------- helpers

# host:port of every node but $1
members_except() {
  local self=$1 i list=()
  for ((i = 1; i <= count; i++)); do
    ((i == self)) || list+=("$HOST:$((CLUSTER_BASE + i))")
  done
  local IFS=,
  echo "${list[*]}"
}

# Starts node $1 with the extra settings given as NAME=VALUE arguments.
start_node() {
  local i=$1
  shift
  local dir="$RUN_DIR/node$i"
  mkdir -p "$dir/data"
  : >"$dir/node.log"
  (
    cd "$dir"
    exec env \
      CHAT_NODE_ID="node$i" \
      CHAT_TCP_PORT=$((TCP_BASE + i)) \
      CHAT_HTTP_PORT=$((HTTP_BASE + i)) \
      CHAT_CLUSTER_HOST="$HOST" \
      CHAT_BIND="${CHAT_BIND:-$HOST}" \
      CHAT_CLUSTER_PORT=$((CLUSTER_BASE + i)) \
      CHAT_CLUSTER_MEMBERS="$(members_except "$i")" \
      CHAT_DATA_DIR="$dir/data" \
      "$@" \
      nohup "$JAVA" "${java_opts[@]}" -jar "$JAR" >>"$dir/node.log" 2>&1 </dev/null
  ) &
  echo $! >"$dir/node.pid"
  echo "node$i: pid $!, TCP $((TCP_BASE + i)), HTTP $((HTTP_BASE + i)), cluster $((CLUSTER_BASE + i)), log $dir/node.log"
}

# Waits until node $1 answers /health/ready, failing early if its process ends.
wait_ready() {
  local i=$1 dir="$RUN_DIR/node$1" deadline=$((SECONDS + READY_TIMEOUT_S))
  local url="http://127.0.0.1:$((HTTP_BASE + i))/health/ready"
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    if ! kill -0 "$(<"$dir/node.pid")" 2>/dev/null; then
      echo "start-cluster: node$i exited; the end of its log:" >&2
      tail -n 30 "$dir/node.log" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "start-cluster: node$i not ready after $READY_TIMEOUT_S s (see $dir/node.log)" >&2
      return 1
    fi
    sleep 1
  done
  echo "node$i: ready"
}

# ---------------------------------------------------------------- node 1, then the others

if [[ -n ${CHAT_DB_URL:-} ]]; then
  db_url=$CHAT_DB_URL
  echo "database: CHAT_DB_URL from the environment"
  start_node 1 CHAT_DB_URL="$db_url"
  wait_ready 1
else
  start_node 1 CHAT_DB_EMBEDDED_PORT="$DB_PORT"
  wait_ready 1
  # Node 1 keeps its embedded database under CHAT_DATA_DIR/mariadb, with the password of
  # the 'chat' account in chat-db.password (see EmbeddedMariaDb).
  password_file="$RUN_DIR/node1/data/mariadb/chat-db.password"
  [[ -s $password_file ]] || die "node 1 is ready but $password_file is missing"
  db_url="mysql://chat:$(tr -d '[:space:]' <"$password_file")@127.0.0.1:$DB_PORT/chat"
  echo "database: embedded in node1 on 127.0.0.1:$DB_PORT (password in $password_file)"
fi

for ((i = 2; i <= count; i++)); do
  start_node "$i" CHAT_DB_URL="$db_url"
done
failed=0
for ((i = 2; i <= count; i++)); do
  wait_ready "$i" || failed=1
done
((failed == 0)) || die "some nodes did not start; stop the rest with deploy/local/stop-cluster.sh"

echo
echo "cluster of $count node(s) is up."
echo "  web chat:  http://127.0.0.1:$((HTTP_BASE + 1))/"
echo "  TCP:       127.0.0.1:$((TCP_BASE + 1))..$((TCP_BASE + count))"
if [[ -n ${CHAT_RUN_DIR:-} ]]; then
  echo "  stop with: CHAT_RUN_DIR=$RUN_DIR $script_dir/stop-cluster.sh"
else
  echo "  stop with: $script_dir/stop-cluster.sh"
fi
