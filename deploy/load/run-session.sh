#!/usr/bin/env bash
# Runs the load session documented in deploy/load/README.md, start to end, on this machine:
#
#   deploy/load/run-session.sh [output-file]
#
# Part A: 2 local nodes as shipped (CHAT_RATE_LIMIT=100000, the load is unpaced): a warm-up,
#         then the default and the classic scenario, twice each, alternating; then a burst of
#         200 registrations and logins all at once (--login-concurrency 0); then a check that
#         no user is left online once every client has gone.
# Part B: the same with JAVA_OPTS adding -Djava.util.concurrent.ForkJoinPool.common.parallelism=2.
# Part C: the server's default rate limit (200/s, bursts of 400): one unpaced sender with a
#         large window (expects 429s), then the same paced with --rate 150 (expects none).
# Part D: as part A but with CHAT_PASSWORD_ITERATIONS=1000 (the minimum), to show what the
#         password hash costs the logins.
# Each part starts the cluster with deploy/local/start-cluster.sh 2 and stops it with
# deploy/local/stop-cluster.sh. Everything printed also goes to the output file (default
# deploy/load/results/session-<UTC time>.txt). Needs the jar (mvn -DskipTests package).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
run_dir=${CHAT_RUN_DIR:-$repo/deploy/local/run}
out=${1:-$here/results/session-$(date -u +%Y%m%dT%H%M%SZ).txt}
mkdir -p "$(dirname "$out")"
exec > >(tee "$out") 2>&1

cd "$repo"
cluster_up=0
stop_cluster() {
  if ((cluster_up)); then
    deploy/local/stop-cluster.sh || deploy/local/stop-cluster.sh --force || true
    cluster_up=0
  fi
}
trap stop_cluster EXIT

say() { printf '\n### %s\n' "$*"; }

# Accounts each node has created since it started (its log says so for each).
registered_in_logs() {
  local i
  for i in 1 2; do
    echo "node$i log: $(grep -c 'Registered userId' "$run_dir/node$i/node.log" || true) accounts created"
  done
}

# Users the presence API still calls online (every client of the tool has closed by now).
online_users() {
  local max
  sleep 3
  max=$(grep -ho 'Registered userId=[0-9]*' "$run_dir"/node*/node.log | sed 's/.*=//' | sort -n | tail -1)
  echo "users 1..${max:-0} online according to GET /api/presence: $(curl -s \
    "http://127.0.0.1:8081/api/presence/[1-${max:-1}]" | grep -o '"state":"online"' | wc -l)"
}

# Runs the load tool, printing the command; a failing run does not stop the session.
load() {
  echo "\$ java deploy/load/ChatLoad.java $*"
  java deploy/load/ChatLoad.java "$@" || echo "(exit status $?)"
}

# Threads each node's JVM has started so far (a Java thread start is not free).
threads_started() {
  local i pid
  command -v jcmd >/dev/null || return 0
  for i in 1 2; do
    pid=$(cat "$run_dir/node$i/node.pid" 2>/dev/null) || continue
    echo "node$i threads started: $(jcmd "$pid" PerfCounter.print 2>/dev/null \
      | sed -n 's/^java.threads.started=//p')"
  done
}

start_cluster() {
  deploy/local/start-cluster.sh 2
  cluster_up=1
}

say "machine"
echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "nproc: $(nproc)"
free -h
java -version 2>&1
uname -sr
uptime

say "part A: as shipped, CHAT_RATE_LIMIT=100000, unpaced"
export CHAT_RATE_LIMIT=100000
start_cluster
threads_started
load --pairs 20 --messages 100 --inflight 10   # warm-up, not reported
load
load --scenario classic
load
load --scenario classic
threads_started
load --login-concurrency 0   # every REG, then every LOGIN, at once
sleep 10
registered_in_logs
online_users
stop_cluster

say "part B: JAVA_OPTS with ForkJoinPool.common.parallelism=2, CHAT_RATE_LIMIT=100000, unpaced"
export JAVA_OPTS="-Xms64m -Xmx512m -Djava.util.concurrent.ForkJoinPool.common.parallelism=2"
start_cluster
threads_started
load --pairs 20 --messages 100 --inflight 10   # warm-up, not reported
load
load --scenario classic
load
load --scenario classic
threads_started
online_users
stop_cluster
unset JAVA_OPTS

say "part C: default CHAT_RATE_LIMIT (200/s per connection, bursts of 400)"
unset CHAT_RATE_LIMIT
start_cluster
load --pairs 1 --messages 2000 --inflight 1000     # unpaced: expect 429s
load --pairs 1 --messages 2000 --inflight 1000 --rate 150
stop_cluster

say "part D: CHAT_PASSWORD_ITERATIONS=1000, CHAT_RATE_LIMIT=100000, unpaced"
export CHAT_RATE_LIMIT=100000 CHAT_PASSWORD_ITERATIONS=1000
start_cluster
load --pairs 20 --messages 100 --inflight 10   # warm-up, not reported
load
load --scenario classic
stop_cluster
unset CHAT_RATE_LIMIT CHAT_PASSWORD_ITERATIONS

say "end"
uptime
