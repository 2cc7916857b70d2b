#!/usr/bin/env bash
# usage: cpu-20261203T0921Z-pinned-script.sh JAR LABEL [NAME=VALUE ...] (from the repository root;
# STEPS="name:scenario:jfr:messages ..."; NAME=VALUE: more settings of both nodes, e.g.
# CHAT_HISTORY_DAYS=0):
# one 2-node cluster of JAR; per step one load run, the CPU seconds of node 1, node 2 and the
# embedded mariadbd from /proc/<pid>/stat before and after it, and the database status counters;
# jfr=1 records the run with JFR (profile settings); each process's threads' CPU, grouped by
# thread name (digits as N), before and after each step.
# The database on a CPU of its own, as on a host of its own: once the cluster is up, every
# thread of the embedded mariadbd is bound to CPU 1 and every thread of both nodes to CPU 0,
# and the load tool runs on CPU 0 (taskset). The nodes start unbound, so their JVMs size
# themselves for the machine's 2 CPUs as in the unbound runs.
set -uo pipefail
export BENCH_TCP_BASE=${BENCH_TCP_BASE:-16400} BENCH_HTTP_BASE=${BENCH_HTTP_BASE:-18480} BENCH_CLUSTER_BASE=${BENCH_CLUSTER_BASE:-15950} BENCH_DB_PORT=${BENCH_DB_PORT:-13457}
jar=$1 label=$2; shift 2; settings=("$@")
OUT=deploy/load/run/cpu-$label; rm -rf $OUT; mkdir -p $OUT
source ./deploy/load/lib.sh
trap cluster_stop EXIT
cluster_start "$jar" "prof-$label" 2 CHAT_RATE_LIMIT=100000 CHAT_PASSWORD_ITERATIONS=1000 "${settings[@]}"
nodes="$(node_tcp 1),$(node_tcp 2)"
p1=$(node_pid 1); p2=$(node_pid 2)
db=$(pgrep -f "mariadbd.*port=$BENCH_DB_PORT" | head -1); [[ -z $db ]] && db=$(pgrep -f "mariadbd.*$BENCH_DB_PORT" | head -1)
pw=$(cat $bench_run_dir/node1/data/chat-db.password 2>/dev/null || find $bench_run_dir -name chat-db.password -exec cat {} \;)
sql() { mysql -h127.0.0.1 -P$BENCH_DB_PORT -uchat -p$pw chat -N -e "$1"; }
echo "node1=$p1 node2=$p2 db=$db"
taskset -a -p -c 1 $db >/dev/null; taskset -a -p -c 0 $p1 >/dev/null; taskset -a -p -c 0 $p2 >/dev/null
affinity() { for t in /proc/$1/task/*; do taskset -c -p ${t##*/} | sed 's/.*: //'; done | sort | uniq -c | tr '\n' ' '; }
echo "CPUs of the threads: node1 $(affinity $p1)| node2 $(affinity $p2)| db $(affinity $db)"
sql "show variables where Variable_name in ('log_bin','innodb_flush_log_at_trx_commit','sync_binlog','innodb_autoinc_lock_mode','version','innodb_buffer_pool_size','performance_schema','max_prepared_stmt_count','innodb_doublewrite','query_cache_type','general_log','slow_query_log')" | tr '\n' ' '; echo
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
hz=$(getconf CLK_TCK)
threads() { for t in /proc/$1/task/*; do n=$(tr ' ' '_' < $t/comm); awk -v n="$n" -v t=${t##*/} '{print t, n, $14+$15}' $t/stat 2>/dev/null; done; }
tdiff() { python3 - "$1" "$2" <<'PY'
import sys, re, collections
def rd(f):
    d = {}
    for line in open(f):
        p = line.split()
        if len(p) == 3:
            d[p[0]] = (p[1], int(p[2]))
    return d
a, b, g = rd(sys.argv[1]), rd(sys.argv[2]), collections.Counter()
for t, (n, v) in b.items():
    g[re.sub(r'\d+', 'N', n)] += v - a.get(t, (n, 0))[1]
tot = sum(g.values())
print('   total %d ms: ' % (tot * 10) + ', '.join('%s=%d' % (k, v * 10) for k, v in g.most_common(12) if v > 0))
PY
}
run() { local sc=$1 jfr=$2; shift 2
  st0=$(sql "show global status where Variable_name in ('Com_stmt_prepare','Com_stmt_execute','Com_stmt_close','Com_insert','Com_select','Innodb_data_fsyncs','Com_commit','Questions','Innodb_rows_inserted')" | awk '{printf "%s=%s ",$1,$2}')
  [[ $jfr == 1 ]] && for i in 1 2; do jcmd $(node_pid $i) JFR.start name=p settings=profile >/dev/null; done
  threads $p1 > $OUT/t1a; threads $db > $OUT/tda; threads $p2 > $OUT/t2a
  a1=$(ticks $p1); a2=$(ticks $p2); ad=$(ticks $db)
  echo "\$ taskset -c 0 java deploy/load/ChatLoad.java --scenario $sc --inflight 1 --nodes $nodes $*"
  taskset -c 0 java "$load_dir/ChatLoad.java" --scenario $sc --inflight 1 --nodes "$nodes" "$@" > $OUT/$sc.$(date +%s).txt
  b1=$(ticks $p1); b2=$(ticks $p2); bd=$(ticks $db)
  threads $p1 > $OUT/t1b; threads $db > $OUT/tdb; threads $p2 > $OUT/t2b
  echo "threads node1:"; tdiff $OUT/t1a $OUT/t1b; echo "threads db:"; tdiff $OUT/tda $OUT/tdb; echo "threads node2:"; tdiff $OUT/t2a $OUT/t2b
  [[ $jfr == 1 ]] && for i in 1 2; do jcmd $(node_pid $i) JFR.stop name=p filename=$PWD/$OUT/$sc-node$i.jfr >/dev/null; done
  st1=$(sql "show global status where Variable_name in ('Com_stmt_prepare','Com_stmt_execute','Com_stmt_close','Com_insert','Com_select','Innodb_data_fsyncs','Com_commit','Questions','Innodb_rows_inserted')" | awk '{printf "%s=%s ",$1,$2}')
  grep RESULT $OUT/$sc.*.txt | tail -1 | sed 's/.*RESULT//' | cut -c1-400
  echo "CPUs of the threads after: node1 $(affinity $p1)| db $(affinity $db)"
  echo "CPU $sc node1=$(( (b1-a1)*10 ))ms node2=$(( (b2-a2)*10 ))ms db=$(( (bd-ad)*10 ))ms"
  echo "DB before: $st0"; echo "DB after:  $st1"
}
for step in ${STEPS:-warm:same-node:0:300 prof:same-node:1:1000 prof:cross-node:1:1000 cpu:same-node:0:1000 cpu:cross-node:0:1000}; do
  IFS=: read -r name sc jfr msgs <<<"$step"
  echo "== $name $sc"; run $sc $jfr --pairs ${PAIRS:-200} --messages $msgs
done
