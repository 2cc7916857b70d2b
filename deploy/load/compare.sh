#!/usr/bin/env bash
# Same-node against cross-node chat, and window 1 against window 50, on ONE 2-node cluster in
# one run (the ratios the benchmarks report come from here):
#
#   deploy/load/compare.sh [--jar JAR] [--label LABEL] [--quick] [--env NAME=VALUE]...
#
# Starts 2 nodes of JAR (default deploy/target/chat-node.jar) with CHAT_RATE_LIMIT=100000 (the
# load is unpaced) and CHAT_PASSWORD_ITERATIONS=1000 (setup only: chats never hash), and any
# --env setting of the nodes (e.g. --env CHAT_HISTORY_DAYS=0), then:
#   1. same-node, cross-node, same-node, cross-node: PAIRS pairs x MESSAGES, window 1
#      (the first two are the first runs after the start, reported as such);
#   2. cross-node window 1, window 50, window 1, window 50 on WINDOW_PAIRS pairs x
#      WINDOW_MESSAGES;
# and prints one COMPARE line with msgs/s and the ratios. Stops the cluster at the end.
# Sizes (environment): PAIRS=200 MESSAGES=1000 WINDOW_PAIRS=2 WINDOW_MESSAGES=5000;
# --quick: 20 pairs x 200, 2 pairs x 1000. Ports: see lib.sh.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

jar=$repo/deploy/target/chat-node.jar
label=compare
node_env=()
while (($#)); do
  case $1 in
    --jar) jar=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    --env) node_env+=("$2"); shift 2 ;;
    --quick) PAIRS=${PAIRS:-20} MESSAGES=${MESSAGES:-200} WINDOW_MESSAGES=${WINDOW_MESSAGES:-1000}; shift ;;
    -h | --help) sed -n '2,16s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "compare: unknown option $1" >&2; exit 2 ;;
  esac
done
PAIRS=${PAIRS:-200} MESSAGES=${MESSAGES:-1000}
WINDOW_PAIRS=${WINDOW_PAIRS:-2} WINDOW_MESSAGES=${WINDOW_MESSAGES:-5000}
[[ -f $jar ]] || { echo "compare: no jar at $jar (mvn -DskipTests package)" >&2; exit 1; }

trap cluster_stop EXIT
cluster_start "$jar" "$label" 2 CHAT_RATE_LIMIT=100000 CHAT_PASSWORD_ITERATIONS=1000 "${node_env[@]}"
nodes="$(node_tcp 1),$(node_tcp 2)"
out=$(mktemp)
trap 'cluster_stop; rm -f "$out"' EXIT

# run NAME ARGS...: one load run; its output is printed and kept; sets $rate
run() {
  local name=$1
  shift
  load "$@" --nodes "$nodes" | tee "$out"
  rate=$(result_field msgs_per_s <"$out")
  eval "r_$name=\${rate:-}"
}

run same1 --scenario same-node --pairs "$PAIRS" --messages "$MESSAGES" --inflight 1
run cross1 --scenario cross-node --pairs "$PAIRS" --messages "$MESSAGES" --inflight 1
run same2 --scenario same-node --pairs "$PAIRS" --messages "$MESSAGES" --inflight 1
run cross2 --scenario cross-node --pairs "$PAIRS" --messages "$MESSAGES" --inflight 1
run w1a --scenario cross-node --pairs "$WINDOW_PAIRS" --messages "$WINDOW_MESSAGES" --inflight 1
run w50a --scenario cross-node --pairs "$WINDOW_PAIRS" --messages "$WINDOW_MESSAGES" --inflight 50
run w1b --scenario cross-node --pairs "$WINDOW_PAIRS" --messages "$WINDOW_MESSAGES" --inflight 1
run w50b --scenario cross-node --pairs "$WINDOW_PAIRS" --messages "$WINDOW_MESSAGES" --inflight 50

# shellcheck disable=SC2154 # set by run through eval
echo "COMPARE label=$label pairs=$PAIRS messages=$MESSAGES same_first=$r_same1 cross_first=$r_cross1" \
  "cross_over_same_first=$(ratio "$r_cross1" "$r_same1") same=$r_same2 cross=$r_cross2" \
  "cross_over_same=$(ratio "$r_cross2" "$r_same2") window_pairs=$WINDOW_PAIRS w1=$r_w1a,$r_w1b" \
  "w50=$r_w50a,$r_w50b w50_over_w1=$(ratio "$r_w50a" "$r_w1a"),$(ratio "$r_w50b" "$r_w1b")"
