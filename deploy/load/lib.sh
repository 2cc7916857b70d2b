# shellcheck shell=bash
# Shared by compare.sh and run-benchmarks.sh (sourced, not run): starts and stops a local
# cluster of a given jar on ports of its own, and runs the load tool.
#
# Settings (environment): BENCH_TCP_BASE (default 16000), BENCH_HTTP_BASE (18080),
# BENCH_CLUSTER_BASE (15800), BENCH_DB_PORT (13307): node i listens on TCP BASE+i, HTTP
# BASE+i and Hazelcast BASE+i, node 1 runs the embedded MariaDB; JAVA_OPTS as for
# deploy/local/start-cluster.sh (default -Xms64m -Xmx512m).

load_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$load_dir/../.." && pwd)
BENCH_TCP_BASE=${BENCH_TCP_BASE:-16000}
BENCH_HTTP_BASE=${BENCH_HTTP_BASE:-18080}
BENCH_CLUSTER_BASE=${BENCH_CLUSTER_BASE:-15800}
BENCH_DB_PORT=${BENCH_DB_PORT:-13307}
export JAVA_OPTS=${JAVA_OPTS:--Xms64m -Xmx512m -XX:NewSize=48m -XX:MaxHeapFreeRatio=20 -XX:MinHeapFreeRatio=10 -XX:G1PeriodicGCInterval=60000 -XX:TrimNativeHeapInterval=20000}
bench_run_dir=""

# node_tcp I: the TCP endpoint of node I
node_tcp() { echo "127.0.0.1:$((BENCH_TCP_BASE + $1))"; }

# node_pid I: the pid of node I of the running cluster
node_pid() { cat "$bench_run_dir/node$1/node.pid"; }

# cluster_start JAR LABEL N [NAME=VALUE...]: starts N nodes of JAR (run files under
# deploy/load/run/LABEL), with the given CHAT_* settings; returns when all are ready.
cluster_start() {
  local jar label=$2 n=$3
  jar=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")   # the nodes run in their own directories
  shift 3
  bench_run_dir="$load_dir/run/$label"
  rm -rf "$bench_run_dir"
  mkdir -p "$bench_run_dir"
  echo "cluster: $n node(s) of $jar, JAVA_OPTS='$JAVA_OPTS'${*:+, $*}"
  env "$@" CHAT_JAR="$jar" CHAT_RUN_DIR="$bench_run_dir" TCP_BASE="$BENCH_TCP_BASE" \
    HTTP_BASE="$BENCH_HTTP_BASE" CLUSTER_BASE="$BENCH_CLUSTER_BASE" \
    CHAT_DB_EMBEDDED_PORT="$BENCH_DB_PORT" "$repo/deploy/local/start-cluster.sh" "$n" |
    grep -E '^node[0-9]+: (pid|ready)|cluster of'
  return "${PIPESTATUS[0]}"
}

# cluster_stop: stops the cluster cluster_start started (SIGTERM, then SIGKILL if needed) and
# deletes its nodes' data (the embedded database: hundreds of MB a cluster), keeping their logs;
# BENCH_KEEP_DATA=1 keeps the data too.
cluster_stop() {
  [[ -n $bench_run_dir ]] || return 0
  CHAT_RUN_DIR="$bench_run_dir" "$repo/deploy/local/stop-cluster.sh" --force >/dev/null 2>&1 || true
  [[ ${BENCH_KEEP_DATA:-0} == 1 ]] || rm -rf "$bench_run_dir"/node*/data
  bench_run_dir=""
}

# load ARGS...: runs the load tool, printing the command; a failing run does not stop a script.
load() {
  echo "\$ java deploy/load/ChatLoad.java $*"
  java "$load_dir/ChatLoad.java" "$@" || echo "(exit status $?)"
}

# result_field KEY < output: the value of KEY in the RESULT line
result_field() { sed -n "s/^RESULT .*\b$1=\([^ ]*\).*/\1/p" | tail -1; }

# ratio A B: A / B with two decimals ("-" when either is missing)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

machine_summary() {
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "nproc: $(nproc); $(free -h | awk '/^Mem:/ {print "memory " $2 " total, " $7 " available"}')"
  echo "java: $(java -version 2>&1 | head -2 | tail -1)"
  echo "kernel: $(uname -sr); open files (ulimit -n): $(ulimit -n); ephemeral ports: $(cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null | tr '\t' '-')"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}
