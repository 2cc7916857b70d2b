#!/usr/bin/env bash
# usage: deploy/load/results/ctxsw-20261203T0943Z-script.sh JAR LABEL [NAME=VALUE ...] (from the repository root)
# How often node 1's threads give up the CPU per chat: one 2-node cluster of JAR (nothing
# bound to a CPU), three classic runs (200 pairs on node 1, one chat in flight, 200,000 chats);
# around each, every thread's voluntary and involuntary context switches and CPU ticks
# (/proc/<pid>/task/*/status and stat), summed by thread name (digits as N).
# PIN=1: once the cluster is up, node 1 and node 2 bound to CPU 0 and the embedded mariadbd to
# CPU 1, the load tool run on CPU 0 (as cpu-20261203T0921Z-pinned-script.sh does).
set -uo pipefail
export BENCH_TCP_BASE=${BENCH_TCP_BASE:-16400} BENCH_HTTP_BASE=${BENCH_HTTP_BASE:-18480} BENCH_CLUSTER_BASE=${BENCH_CLUSTER_BASE:-15950} BENCH_DB_PORT=${BENCH_DB_PORT:-13457}
jar=$1 label=$2; shift 2
OUT=deploy/load/run/ctxsw-$label; rm -rf $OUT; mkdir -p $OUT
source ./deploy/load/lib.sh
trap cluster_stop EXIT
cluster_start "$jar" "ctxsw-$label" 2 CHAT_RATE_LIMIT=100000 CHAT_PASSWORD_ITERATIONS=1000 "$@"
p1=$(node_pid 1)
run_load=(java)
if [[ ${PIN:-0} == 1 ]]; then
  db=$(pgrep -f "mariadbd.*$BENCH_DB_PORT" | head -1)
  taskset -a -p -c 1 $db >/dev/null; taskset -a -p -c 0 $p1 >/dev/null; taskset -a -p -c 0 $(node_pid 2) >/dev/null
  run_load=(taskset -c 0 java)
  echo "bound: nodes to CPU 0, mariadbd ($db) to CPU 1, the load tool to CPU 0"
fi
snap() { for t in /proc/$p1/task/*; do
    n=$(tr ' ' '_' < $t/comm)
    v=$(awk '/^voluntary_ctxt_switches/{print $2}' $t/status 2>/dev/null)
    i=$(awk '/^nonvoluntary_ctxt_switches/{print $2}' $t/status 2>/dev/null)
    c=$(awk '{print $14+$15}' $t/stat 2>/dev/null)
    echo "${t##*/} $n ${v:-0} ${i:-0} ${c:-0}"
  done; }
for r in 1 2 3; do
  snap > $OUT/a
  "${run_load[@]}" "$load_dir/ChatLoad.java" --scenario classic --inflight 1 --nodes "$(node_tcp 1),$(node_tcp 2)" --pairs 200 --messages 1000 > $OUT/load.$r.txt
  snap > $OUT/b
  echo "== run $r: $(grep RESULT $OUT/load.$r.txt | grep -o 'msgs_per_s=[0-9]*\|delivered=[0-9]*\|exactly_once=[a-z]*' | tr '\n' ' ')"
  python3 - $OUT/a $OUT/b <<'PY'
import sys, re, collections
def rd(f):
    d = {}
    for line in open(f):
        p = line.split()
        if len(p) == 5:
            d[p[0]] = (p[1], int(p[2]), int(p[3]), int(p[4]))
    return d
a, b = rd(sys.argv[1]), rd(sys.argv[2])
g = collections.defaultdict(lambda: [0, 0, 0])
for t, (n, v, i, c) in b.items():
    _, v0, i0, c0 = a.get(t, (n, 0, 0, 0))
    k = re.sub(r'\d+', 'N', n)
    g[k][0] += v - v0; g[k][1] += i - i0; g[k][2] += c - c0
tot = [sum(x[j] for x in g.values()) for j in range(3)]
print('   node 1, per 200,000 chats: voluntary %d, involuntary %d, CPU %d ms' % (tot[0], tot[1], tot[2] * 10))
for k, (v, i, c) in sorted(g.items(), key=lambda kv: -kv[1][0])[:8]:
    print('   %-18s voluntary %8d  involuntary %7d  CPU %6d ms' % (k, v, i, c * 10))
PY
done
