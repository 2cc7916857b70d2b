#!/usr/bin/env bash
# deploy/load/results/tokens-cpu-20261202T0834Z-script.sh JAR LABEL [ROUNDS] [JFR] (from the
# repository root): one fresh node of JAR, 3,000 token logins ROUNDS times (default 5), the CPU
# per 1,000 token logins of each round by thread group and the embedded database's (the sampler
# next to this script); JFR=1 records from round 3 on with settings=profile (which deoptimizes at
# its start: not for the CPU figures). Ports of its own (BENCH_* of lib.sh).
set -uo pipefail
export BENCH_TCP_BASE=17200 BENCH_HTTP_BASE=19280 BENCH_CLUSTER_BASE=17700 BENCH_DB_PORT=14507
jar=$1 label=$2 rounds=${3:-5} jfr=${4:-0}
cd "$(git rev-parse --show-toplevel)"
source deploy/load/lib.sh
trap cluster_stop EXIT
cluster_start "$jar" "tokcpu-$label" 1 CHAT_PASSWORD_ITERATIONS=1000 ${NODE_ENV:-}
p=$(node_pid 1)
db=$(pgrep -f "mariadbd.*port=$BENCH_DB_PORT" | head -1)
echo "node $p db $db"
if [[ $jfr == 1 ]]; then
  ( while ! grep -q "round 2:" /tmp/tokcpu-$label.out 2>/dev/null; do sleep 0.2; done
    jcmd $p JFR.start name=t settings=profile filename=$label.jfr >/dev/null ) &
fi
export DBPORT=$BENCH_DB_PORT DBPW=$(cat $bench_run_dir/node1/data/chat-db.password 2>/dev/null || find $bench_run_dir -name chat-db.password -exec cat {} \;)
python3 "$(dirname "$0")"/tokens-cpu-20261202T0834Z-sampler.py $p $db -- java deploy/load/ChatLoad.java --scenario logins --method token \
  --nodes "$(node_tcp 1)" --sessions ${USERS:-3000} --login-concurrency 32 --timeout-s 900 --login-rounds $rounds \
  | tee /tmp/tokcpu-$label.out | grep -E "^CPU|^DB|logins:|RESULT|FAIL"
[[ $jfr == 1 ]] && jcmd $p JFR.stop name=t >/dev/null
grep -c . "$bench_run_dir/node1/node.log" | sed 's/^/node log lines: /'
