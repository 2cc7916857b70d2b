#!/usr/bin/env bash
# usage: db-insert-20261202T1200Z-padding-script.sh JAR: one node of JAR with its embedded MariaDB; 200,024 rows like the
# message log's into copies of `message`, 44 distinct rows per INSERT ... ON DUPLICATE KEY UPDATE id=id (autocommit): exact,
# padded with the last row repeated 4 times (as a 48-row shape), and split as 40 + 4; mariadbd CPU (user + system) around each
set -uo pipefail
cd "$(git rev-parse --show-toplevel)"
a=$(mktemp); b=$(mktemp); c=$(mktemp)
export BENCH_TCP_BASE=16400 BENCH_HTTP_BASE=18480 BENCH_CLUSTER_BASE=15950 BENCH_DB_PORT=13457
source ./deploy/load/lib.sh
trap 'cluster_stop; rm -f "$a" "$b" "$c"' EXIT
cluster_start "$1" dbdup 1 CHAT_PASSWORD_ITERATIONS=1000 >/dev/null
db=$(pgrep -f "mariadbd.*$BENCH_DB_PORT" | head -1)
pw=$(find $bench_run_dir -name chat-db.password -exec cat {} \; | head -1)
sql() { mysql -h127.0.0.1 -P$BENCH_DB_PORT -uchat -p$pw chat -N -e "$1"; }
python3 - "$a" "$b" "$c" <<'PY'
import json, sys
fa, fb, fc = open(sys.argv[1], 'w'), open(sys.argv[2], 'w'), open(sys.argv[3], 'w')
n = 0
for s in range(4546):       # 44 distinct rows per statement: 200,024 rows
    rows = []
    for r in range(44):
        n += 1
        body = json.dumps({"msgid":6,"id":1000+n%400,"name":"user%d"%(n%400),"toid":2000+n%400,"msg":"hello %d from the load tool, a chat of some length"%n,"time":"2026-12-02 12:00:00","msgno":"a1b2c3d4e5f6a7b8.%s"%format(n,'x')})
        rows.append("('a1b2c3d4e5f6a7b8.%s','u:%d:%d',%d,%d,'%s')" % (format(n,'x'),1000+n%400,2000+n%400,1000+n%400,1796196000000+n,body))
    tail = " ON DUPLICATE KEY UPDATE id=id;"
    fa.write("INSERT INTO TBL (msgno,conv,sender,created_at,body) VALUES " + ",".join(rows) + tail + "\n")
    fb.write("INSERT INTO TBL (msgno,conv,sender,created_at,body) VALUES " + ",".join(rows + [rows[-1]]*4) + tail + "\n")
    fc.write("INSERT INTO TBL (msgno,conv,sender,created_at,body) VALUES " + ",".join(rows[:40]) + tail + "\n")
    fc.write("INSERT INTO TBL (msgno,conv,sender,created_at,body) VALUES " + ",".join(rows[40:]) + tail + "\n")
PY
ticks() { awk '{print $14+$15}' /proc/$db/stat; }
exp() { local name=$1 file=$2
  sql "DROP TABLE IF EXISTS t_$name; CREATE TABLE t_$name LIKE message"
  x=$(ticks); sed "s/TBL/t_$name/" "$file" | mysql -h127.0.0.1 -P$BENCH_DB_PORT -uchat -p$pw chat; y=$(ticks)
  echo "$name: mariadbd $(( (y-x)*10 )) ms; rows $(sql "select count(*) from t_$name"), next id $(sql "select auto_increment from information_schema.tables where table_schema='chat' and table_name='t_$name'")"
}
for r in 1 2; do exp exact$r "$a"; exp padded$r "$b"; exp split$r "$c"; done
