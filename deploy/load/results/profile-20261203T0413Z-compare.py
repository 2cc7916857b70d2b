#!/usr/bin/env python3
# usage: profile-20261203T0413Z-compare.py A.collapsed B.collapsed
# Two async-profiler collapsed profiles (1 ms of CPU a sample) side by side: CPU by kind of
# thread, the event loops' leaf frames by difference, kernel time at the event loops by the
# Java call that entered the kernel, and which calls wake an event loop (eventfd writes).
import collections, sys

def load(f):
    out = []
    for line in open(f):
        s, _, n = line.rstrip().rpartition(' ')
        out.append((s.split(';'), int(n)))
    return out

def kind(fr):
    j = ';'.join(fr)
    if 'CompileBroker' in j:
        return 'JIT compiler'
    if fr[0] == 'start_thread' and 'G1' in j:
        return 'GC (G1 threads)'
    if 'SingleThreadIoEventLoop' in j:
        return 'event loops'
    if 'hazelcast' in j:
        return 'hazelcast'
    return 'other'

def event_loop(st):
    return [(fr, n) for fr, n in st if kind(fr) == 'event loops']

def by_last_java(st, leaf):
    c = collections.Counter()
    for fr, n in st:
        if fr[-1] == leaf:
            java = [f for f in fr if '/' in f and not f.endswith('_[k]')]
            c[' < '.join(reversed(java[-2:])) if java else '?'] += n
    return c

def callers_of(st, frame):
    c = collections.Counter()
    for fr, n in st:
        idx = [i for i, f in enumerate(fr) if frame in f]
        if idx:
            above = [f for f in fr[:idx[-1]] if f.startswith('chat/') or '/vertx/' in f]
            c[' < '.join(reversed(above[-3:]))] += n
    return c

a, b = load(sys.argv[1]), load(sys.argv[2])
print('A =', sys.argv[1]); print('B =', sys.argv[2]); print()
ka, kb = collections.Counter(), collections.Counter()
for fr, n in a: ka[kind(fr)] += n
for fr, n in b: kb[kind(fr)] += n
print('CPU ms by thread kind        A       B')
for k in sorted(set(ka) | set(kb), key=lambda k: -(ka[k] + kb[k])):
    print(f'  {k:22s} {ka[k]:7d} {kb[k]:7d}')
la, lb = collections.Counter(), collections.Counter()
for fr, n in event_loop(a): la[fr[-1]] += n
for fr, n in event_loop(b): lb[fr[-1]] += n
print('\nevent loops, leaf frames with the largest A - B (ms): A B A-B')
for k in sorted(set(la) | set(lb), key=lambda k: -(la[k] - lb[k]))[:25]:
    print(f'  {la[k]:6d} {lb[k]:6d} {la[k]-lb[k]:+6d} {k[:110]}')
for name, st in (('A', a), ('B', b)):
    print(f'\n{name}: kernel time at pvm_irq_enable by the Java call that entered the kernel (ms)')
    for k, v in by_last_java(event_loop(st), 'pvm_irq_enable_[k]').most_common(6):
        print(f'  {v:6d} {k[:150]}')
    print(f'{name}: who wakes an event loop (EpollIoHandler.wakeup, ms)')
    for k, v in callers_of(st, 'EpollIoHandler.wakeup').most_common(4):
        print(f'  {v:6d} {k[:200]}')
