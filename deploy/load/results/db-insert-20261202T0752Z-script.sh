#!/usr/bin/env bash
# usage: db-insert-...-script.sh JAR (from the repository root): one node of JAR with its embedded
# MariaDB; 200,000 rows like the message log's, 50 per INSERT, autocommit, into copies of the
# `message` table with one change each; the CPU ticks (user, system) of mariadbd around each.
set -uo pipefail
ins=$(mktemp); trap 'rm -f "$ins"' EXIT
export BENCH_TCP_BASE=16400 BENCH_HTTP_BASE=18480 BENCH_CLUSTER_BASE=15950 BENCH_DB_PORT=13457
source ./deploy/load/lib.sh
trap 'cluster_stop; rm -f "$ins"' EXIT
cluster_start "$1" dbexp 1 CHAT_PASSWORD_ITERATIONS=1000
db=$(pgrep -f "mariadbd.*port=$BENCH_DB_PORT" | head -1)
pw=$(find $bench_run_dir -name chat-db.password -exec cat {} \; | head -1)
sql() { mysql -h127.0.0.1 -P$BENCH_DB_PORT -uchat -p$pw chat -N -e "$1"; }
python3 - > "$ins" <<'PY'
import json
n=0
for b in range(4000):
    rows=[]
    for r in range(50):
        n+=1
        body=json.dumps({"msgid":6,"id":1000+n%400,"from":"user%d"%(n%400),"toid":2000+n%400,"msg":"hello %d from the load tool, a chat of some length"%n,"seq":n,"msgno":"a1b2c3d4e5f6a7b8:%s"%format(n,'x'),"time":1796196000000+n}).replace("'","''")
        rows.append("('a1b2c3d4e5f6a7b8:%s','u:%d:%d',%d,%d,'%s')"%(format(n,'x'),1000+n%400,2000+n%400,1000+n%400,1796196000000+n,body))
    print("INSERT INTO TBL (msgno,conv,sender,created_at,body) VALUES "+",".join(rows)+";")
PY
ticks() { awk '{print $14" "$15}' /proc/$db/stat; }
exp() { local name=$1 ddl=$2
  sql "DROP TABLE IF EXISTS t_$name; $ddl"
  a=$(ticks); t0=$(date +%s.%N)
  sed "s/TBL/t_$name/" "$ins" | mysql -h127.0.0.1 -P$BENCH_DB_PORT -uchat -p$pw chat
  b=$(ticks); t1=$(date +%s.%N)
  echo "$name: user/sys ticks before $a after $b; wall $(echo "$t1-$t0"|bc)"
}
exp full "CREATE TABLE t_full LIKE message"
exp nocreated "CREATE TABLE t_nocreated LIKE message; ALTER TABLE t_nocreated DROP KEY idx_message_created_at"
exp pkonly "CREATE TABLE t_pkonly LIKE message; ALTER TABLE t_pkonly DROP KEY idx_message_created_at, DROP KEY uk_message_msgno, DROP KEY idx_message_conv_id"
sql "SET GLOBAL innodb_flush_log_at_trx_commit=2"
exp full_flush2 "CREATE TABLE t_full_flush2 LIKE message"
sql "SET GLOBAL innodb_flush_log_at_trx_commit=1"
exp full_again "CREATE TABLE t_full_again LIKE message"
exp bodyblob "CREATE TABLE t_bodyblob LIKE message; ALTER TABLE t_bodyblob MODIFY body MEDIUMBLOB NOT NULL"
exp bodyvarchar "CREATE TABLE t_bodyvarchar LIKE message; ALTER TABLE t_bodyvarchar MODIFY body VARBINARY(4000) NOT NULL"
exp latin "CREATE TABLE t_latin LIKE message; ALTER TABLE t_latin MODIFY msgno VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, MODIFY conv VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL"
sed -i "s/'{[^']*}'/'x'/g" "$ins"
exp nobody "CREATE TABLE t_nobody LIKE message"
