#!/bin/bash
# cpuflags.sh LABEL "JAVA_OPTS" : 2 nodes, cross-node 200x1000 twice; CPU (s) of both nodes during the second
cd .
source deploy/load/lib.sh
export JAVA_OPTS="$2"
cluster_start deploy/target/chat-node.jar "cpu-$1" 2 CHAT_RATE_LIMIT=100000 CHAT_PASSWORD_ITERATIONS=1000 >/dev/null
p1=$(node_pid 1); p2=$(node_pid 2)
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
tck=$(getconf CLK_TCK)
for run in 1 2; do
  a1=$(cpu $p1); a2=$(cpu $p2); t0=$(date +%s.%N)
  out=$(java deploy/load/ChatLoad.java --scenario cross-node --nodes "$(node_tcp 1),$(node_tcp 2)" --pairs 200 --messages 1000 --inflight 1 2>&1 | grep "^RESULT")
  b1=$(cpu $p1); b2=$(cpu $p2); t1=$(date +%s.%N)
  rate=$(echo "$out" | sed -E 's/.*msgs_per_s=([0-9]+).*/\1/')
  echo "$1 run$run: cross-node $rate msgs/s; node CPU per 200,000: node1 $(echo "($b1-$a1)/$tck" | bc -l | cut -c1-5) s, node2 $(echo "($b2-$a2)/$tck" | bc -l | cut -c1-5) s; wall $(echo "$t1-$t0" | bc | cut -c1-5) s"
done
cluster_stop
