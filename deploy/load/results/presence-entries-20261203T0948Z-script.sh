#!/usr/bin/env bash
# usage: deploy/load/results/presence-entries-20261203T0948Z-script.sh JAR [NAME=VALUE ...] (from the repository root)
# What the online map keeps for users who are no longer online: one 2-node cluster of JAR;
# three times, 10,000 new users log in once with their password on node 1 and disconnect;
# 10 s later, both nodes' live heap (GC.class_histogram, a full GC first) and, from the
# second batch on, the classes that grew, per 10,000 users.
set -uo pipefail
export BENCH_TCP_BASE=16400 BENCH_HTTP_BASE=18480 BENCH_CLUSTER_BASE=15950 BENCH_DB_PORT=13457
jar=$1; shift
source ./deploy/load/lib.sh
trap cluster_stop EXIT
cluster_start "$jar" offl 2 CHAT_PASSWORD_ITERATIONS=1000 "$@"
OUT=deploy/load/run/presence-entries; rm -rf $OUT; mkdir -p $OUT
hist() { for i in 1 2; do jcmd $(node_pid $i) GC.class_histogram > $OUT/h$1-n$i.txt; echo "node$i live heap: $(tail -1 $OUT/h$1-n$i.txt)"; done; }
grown() { python3 - "$@" <<'PY'
import sys
def rd(f):
    d = {}
    for l in open(f):
        p = l.split()
        if len(p) >= 4 and p[0].endswith(':'):
            d[p[3]] = (int(p[1]), int(p[2]))
    return d
a, b = rd(sys.argv[1]), rd(sys.argv[2])
rows = sorted(((b[k][1] - a.get(k, (0, 0))[1], b[k][0] - a.get(k, (0, 0))[0], k) for k in b), reverse=True)
print('   grew by %d bytes in all' % (sum(r[0] for r in rows)))
for by, n, k in rows[:9]:
    print('   %9d B %7d x  %s' % (by, n, k))
PY
}
hist 0
for r in 1 2 3; do
  java "$load_dir/ChatLoad.java" --scenario logins --method password --sessions 10000 --nodes "$(node_tcp 1),$(node_tcp 2)" | grep RESULT | cut -c1-300
  sleep 10
  echo "== after $((r*10000)) users"; hist $r
  if [[ $r -gt 1 ]]; then for i in 1 2; do echo "  node$i, the last 10,000 users:"; grown $OUT/h$((r-1))-n$i.txt $OUT/h$r-n$i.txt; done; fi
done
