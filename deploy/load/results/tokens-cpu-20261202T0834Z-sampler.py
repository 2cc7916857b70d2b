#!/usr/bin/env python3
"""tokens-cpu-20261202T0834Z-sampler.py NODE_PID DB_PID -- LOAD COMMAND... (env DBPORT, DBPW: the embedded database)

Runs the load tool (token logins, several rounds), samples the node's threads' and the
database's utime+stime every 50 ms, and prints per round the CPU seconds per 1,000 logins by
thread group over the measured window (end of the 'logins: round N' line minus its
duration), interpolating between samples."""
import os, re, subprocess, sys, threading, time, collections, bisect

node, db = int(sys.argv[1]), int(sys.argv[2])
cmd = sys.argv[sys.argv.index('--') + 1:]
HZ = os.sysconf('SC_CLK_TCK')


def group(name):
    n = name
    if n.startswith('vert.x-eventloo'): return 'eventloop'
    if n.startswith('C2 CompilerThre'): return 'C2'
    if n.startswith('C1 CompilerThre'): return 'C1'
    if n.startswith('GC Thread') or n.startswith('G1 ') or n == 'VM Thread': return 'GC+VM'
    if n.startswith('hz.'): return 'hazelcast'
    if n.startswith('chat-password'): return 'password'
    if n.startswith('vert.x-worker') or n.startswith('vert.x-internal'): return 'vx-worker'
    return 'other:' + re.sub(r'\d+', 'N', n)


def snap():
    g = collections.Counter()
    base = '/proc/%d/task' % node
    for t in os.listdir(base):
        try:
            with open('%s/%s/stat' % (base, t)) as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.index('(') + 1:s.rindex(')')]
        rest = s[s.rindex(')') + 2:].split()
        g[group(name)] += int(rest[11]) + int(rest[12])
    with open('/proc/%d/stat' % db) as f:
        s = f.read()
    rest = s[s.rindex(')') + 2:].split()
    g['mariadbd'] = int(rest[11]) + int(rest[12])
    return g


samples = []  # (t, Counter)
stop = False


def sampler():
    while not stop:
        samples.append((time.monotonic(), snap()))
        time.sleep(0.05)


th = threading.Thread(target=sampler, daemon=True)
th.start()
lines = []
wall = {}
dbstat = []
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
for line in p.stdout:
    now = time.monotonic()
    wall[now] = time.time()
    sys.stdout.write(line)
    sys.stdout.flush()
    lines.append((now, line))
    if os.environ.get('DBPW') and ('logins:' in line or line.startswith('setup:')):
        out = subprocess.run(['mysql', '-h127.0.0.1', '-P' + os.environ['DBPORT'], '-uchat', '-p' + os.environ['DBPW'], 'chat', '-N', '-e',
            "show global status where Variable_name in ('Com_stmt_prepare','Com_stmt_execute','Com_select','Com_insert','Com_update','Com_stmt_close','Questions')"], capture_output=True, text=True).stdout
        st = dict(l.split('\t') for l in out.strip().split('\n') if '\t' in l)
        if dbstat: print('DB since the previous line: ' + ' '.join('%s=%d' % (k, int(v) - int(dbstat[-1].get(k, 0))) for k, v in st.items()), flush=True)
        dbstat.append(st)
p.wait()
time.sleep(0.1)
stop = True
th.join()

ts = [s[0] for s in samples]


def at(t):
    i = bisect.bisect_left(ts, t)
    if i <= 0: return samples[0][1]
    if i >= len(samples): return samples[-1][1]
    (t0, a), (t1, b) = samples[i - 1], samples[i]
    f = (t - t0) / (t1 - t0) if t1 > t0 else 0
    keys = set(a) | set(b)
    return {k: a.get(k, 0) + f * (b.get(k, 0) - a.get(k, 0)) for k in keys}


pat = re.compile(r'logins:\s+(?:round (\d+): )?(\d+) token logins .* in ([\d.]+) s = (\d+) logins/s; connect->ack ms p50 ([\d.]+) p99 ([\d.]+)')
for now, line in lines:
    m = pat.search(line)
    if not m: continue
    rnd, n, dur, rate, p50, p99 = m.group(1) or '1', int(m.group(2)), float(m.group(3)), m.group(4), m.group(5), m.group(6)
    a, b = at(now - dur), at(now)
    d = {k: (b.get(k, 0) - a.get(k, 0)) / HZ for k in b}
    nodecpu = sum(v for k, v in d.items() if k != 'mariadbd')
    per = lambda v: v / n * 1000
    parts = ', '.join('%s %.3f' % (k, per(v)) for k, v in sorted(d.items(), key=lambda kv: -kv[1]) if k != 'mariadbd' and per(v) >= 0.005)
    import datetime
    startiso = datetime.datetime.fromtimestamp(wall[now] - dur, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')
    print('CPU round %s (from %s): %d logins %s/s p50 %s p99 %s; per 1,000 logins: node %.3f s (%s); mariadbd %.3f s' % (
        rnd, startiso, n, rate, p50, p99, per(nodecpu), parts, per(d.get('mariadbd', 0))))
