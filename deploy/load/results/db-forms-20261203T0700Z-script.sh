#!/usr/bin/env bash
# usage: deploy/load/results/db-forms-20261203T0700Z-script.sh
# What MariaDB spends per message-log row by the log's keys (V2: unique msgno, (conv,id),
# created_at; V4: without created_at) and by the insert's form: the rows of
# db-floor-20261203T0343Z-script.sh (200,000 like the log's, 33 per statement, autocommit,
# through the mysql client, a fresh table in a database `dbx` of the local server), as
# INSERT ... ON DUPLICATE KEY UPDATE id=id (the user service's), a plain INSERT and INSERT
# IGNORE; after 200,000 to warm, the CPU of mariadbd over two more runs of 200,000.
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
v2=", UNIQUE KEY uk (msgno), KEY ci (conv,id), KEY ca (created_at)"
v4=", UNIQUE KEY uk (msgno), KEY ci (conv,id)"
form() { # name, sed expression turning the ODKU statements into the form, keys
  mysql -e "DROP DATABASE IF EXISTS dbx; CREATE DATABASE dbx; USE dbx; CREATE TABLE message ($cols$3$tail"
  sed "$2" "$dir/warm.sql" | mysql dbx
  for r in run1 run2; do
    sed "$2" "$dir/$r.sql" > "$dir/x.sql"
    a=$(ticks); mysql dbx < "$dir/x.sql"; b=$(ticks)
    echo "$1 $r: mariadbd $(( (b - a) * 1000 / hz )) ms of CPU for 200000 rows"
  done
}
mysql -N -e "SELECT VERSION(), @@innodb_flush_log_at_trx_commit, @@innodb_buffer_pool_size, @@log_bin, @@innodb_autoinc_lock_mode"
form "V2 keys, ON DUPLICATE KEY UPDATE id=id" 's/x/x/' "$v2"
form "V4 keys, ON DUPLICATE KEY UPDATE id=id" 's/x/x/' "$v4"
form "V4 keys, plain INSERT" 's/ ON DUPLICATE KEY UPDATE id=id;$/;/' "$v4"
form "V4 keys, INSERT IGNORE" 's/^INSERT INTO/INSERT IGNORE INTO/; s/ ON DUPLICATE KEY UPDATE id=id;$/;/' "$v4"
form "V2 keys, ON DUPLICATE KEY UPDATE id=id (again)" 's/x/x/' "$v2"
form "V4 keys, ON DUPLICATE KEY UPDATE id=id (again)" 's/x/x/' "$v4"
mysql -e "DROP DATABASE dbx"
rm -rf "$dir"
