#!/usr/bin/env bash
# usage: deploy/load/results/db-floor-20261203T0343Z-script.sh
# What MariaDB itself spends per message-log row, whatever the node does: 200,000 rows like
# the log's (a msgno of the node's form, a one-to-one conversation among 400 users, a chat
# body of about 190 bytes), 33 per INSERT ... ON DUPLICATE KEY UPDATE, autocommit, one
# statement at a time through the mysql client, into a fresh table in a database `dbx` of the
# local server (mysql as root over its socket). After a first 200,000 to warm the server, the
# CPU of mariadbd (from /proc/<pid>/stat) over two more runs of 200,000, per table variant.
set -euo pipefail
dir=$(mktemp -d)
gen() { python3 - "$@" <<'PY'
import random, sys
n, per, off = map(int, sys.argv[1:4])
random.seed(off)
def b36(x):
    s = ''
    while x:
        x, r = divmod(x, 36)
        s = '0123456789abcdefghijklmnopqrstuvwxyz'[r] + s
    return s
i = off
for _ in range(n // per):
    rows = []
    for _ in range(per):
        i += 1
        a = random.randint(1, 400); b = a + 1 if a % 2 else a - 1
        no = '4f3a9c2e1b7d6a5e:' + b36(i)
        body = ('{"msgid":6,"id":%d,"name":"user%d","toid":%d,"msg":"hello %d from the load tool",'
                '"time":"2026-12-03 04:00:00","msgno":"%s"}' % (a, a, b, i, no))
        rows.append("('%s','u:%d:%d',%d,%d,'%s')" % (no, min(a, b), max(a, b), a, 1764700000000 + i // 20, body))
    print('INSERT INTO message (msgno,conv,sender,created_at,body) VALUES ' + ','.join(rows)
          + ' ON DUPLICATE KEY UPDATE id=id;')
PY
}
gen 200000 33 0 > "$dir/warm.sql"; gen 200000 33 200000 > "$dir/run1.sql"; gen 200000 33 400000 > "$dir/run2.sql"
pid=$(pgrep -x mariadbd | head -1)
ticks() { awk '{print $14+$15}' /proc/$pid/stat; }
hz=$(getconf CLK_TCK)
cols="id BIGINT NOT NULL AUTO_INCREMENT, msgno VARCHAR(64) NOT NULL, conv VARCHAR(32) NOT NULL, sender INT NOT NULL, created_at BIGINT NOT NULL, body MEDIUMTEXT NOT NULL, PRIMARY KEY (id)"
tail=") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
variant() { # name, extra keys
  mysql -e "DROP DATABASE IF EXISTS dbx; CREATE DATABASE dbx; USE dbx; CREATE TABLE message ($cols$2$tail"
  mysql dbx < "$dir/warm.sql"
  for r in run1 run2; do
    a=$(ticks); mysql dbx < "$dir/$r.sql"; b=$(ticks)
    echo "$1 $r: mariadbd $(( (b - a) * 1000 / hz )) ms of CPU for 200000 rows"
  done
}
mysql -N -e "SELECT VERSION(), @@innodb_flush_log_at_trx_commit, @@innodb_buffer_pool_size, @@log_bin"
variant "as the log (unique msgno, (conv,id), created_at)" ", UNIQUE KEY uk (msgno), KEY ci (conv,id), KEY ca (created_at)"
variant "without the created_at key" ", UNIQUE KEY uk (msgno), KEY ci (conv,id)"
variant "unique msgno only" ", UNIQUE KEY uk (msgno)"
variant "primary key only" ""
mysql -e "SET GLOBAL innodb_flush_log_at_trx_commit = 2"
variant "as the log, innodb_flush_log_at_trx_commit=2" ", UNIQUE KEY uk (msgno), KEY ci (conv,id), KEY ca (created_at)"
mysql -e "SET GLOBAL innodb_flush_log_at_trx_commit = 1; DROP DATABASE dbx"
rm -rf "$dir"
