#!/usr/bin/env bash
# Runs the benchmarks of docs/benchmarks.md end to end on this machine and writes everything
# to deploy/load/results/bench-<UTC time>.txt (a summary of the RESULT lines at its end):
#
#   deploy/load/run-benchmarks.sh [--quick] [--baseline REF] [--no-build] [--only GROUPS] [--rounds N]
#
#   --quick          smoke-test sizes (20 pairs, 500 idle sessions held 60 s, 200 logins,
#                    failover of 200) instead of the benchmark sizes
#   --baseline REF   also measure the jar of commit REF (e.g. main, or the previous main),
#                    built from a `git worktree` of it: both jars run the same groups with the
#                    same (current) load tool, one after the other, group by group; may be
#                    given more than once (the second is labelled baseline-<commit>)
#   --baseline-jar J measure jar J as the baseline (a jar kept from an earlier run); may be
#                    given more than once (further ones are labelled by their file name)
#   --no-build       use deploy/target/chat-node.jar as it is
#   --only GROUPS    comma-separated subset of: chat,idle,logins,failover
#   --variant NAME:SETTINGS  the chat group once more with the current jar, its nodes started
#                    with SETTINGS (comma-separated NAME=VALUE, e.g. history-off:CHAT_HISTORY_DAYS=0),
#                    reported under the label NAME, taking its turn like a baseline
#   --rounds N       run the chat and logins groups N times, the jars taking turns (current, baseline,
#                    current, baseline, ...), so that a change in the machine's speed during
#                    the run shows up in both jars' figures instead of favouring one
#
# Groups (each starts its own cluster on the ports of lib.sh and stops it):
#   chat      compare.sh: same-node vs cross-node (window 1) and window 1 vs 50, one 2-node cluster
#   idle      1 node: IDLE_SESSIONS logged-in sessions with heartbeat, held IDLE_HOLD_S s, RSS and
#             heap per session, heap over time, and the node's class histogram while held;
#             per session against the node warmed by IDLE_WARM_SESSIONS other sessions held
#             IDLE_WARM_S s and closed (and against the cold node)
#   logins    1 node at the default hash cost: LOGIN_USERS password logins, then token logins
#             (TOKEN_ROUNDS times each, default 3: the first after the start, then warmer)
#   failover  2 nodes: FAILOVER_USERS users on node 2 (A), kill -9 A, back on node 1 (B)
# Sizes (environment): IDLE_SESSIONS=2000 IDLE_HOLD_S=600 IDLE_SAMPLE_S=60 IDLE_WARM_SESSIONS=2000
# IDLE_WARM_S=30 (and IDLE_LOGIN_CONCURRENCY=32 IDLE_SETUP_RETRIES=3: 8 and 20 on a busy
# machine) LOGIN_USERS=1000
# FAILOVER_USERS=2000, and those of compare.sh. The load tool needs one file descriptor per
# session and so does the node: each process has its own `ulimit -n`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

quick=0 build=1 baselines=() baseline_jars=() only="chat,idle,logins,failover" rounds=1 variants=()
while (($#)); do
  case $1 in
    --quick) quick=1; shift ;;
    --baseline) baselines+=("$2"); shift 2 ;;
    --baseline-jar) baseline_jars+=("$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    --only) only=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --variant) variants+=("$2"); shift 2 ;;
    -h | --help) sed -n '2,37s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "run-benchmarks: unknown option $1" >&2; exit 2 ;;
  esac
done
if ((quick)); then
  IDLE_SESSIONS=${IDLE_SESSIONS:-500} IDLE_HOLD_S=${IDLE_HOLD_S:-60} IDLE_SAMPLE_S=${IDLE_SAMPLE_S:-20}
  IDLE_WARM_SESSIONS=${IDLE_WARM_SESSIONS:-100} IDLE_WARM_S=${IDLE_WARM_S:-10}
  LOGIN_USERS=${LOGIN_USERS:-200} FAILOVER_USERS=${FAILOVER_USERS:-200}
fi
IDLE_SESSIONS=${IDLE_SESSIONS:-2000} IDLE_HOLD_S=${IDLE_HOLD_S:-600} IDLE_SAMPLE_S=${IDLE_SAMPLE_S:-60}
IDLE_WARM_SESSIONS=${IDLE_WARM_SESSIONS:-2000} IDLE_WARM_S=${IDLE_WARM_S:-30}
LOGIN_USERS=${LOGIN_USERS:-1000} FAILOVER_USERS=${FAILOVER_USERS:-2000} TOKEN_ROUNDS=${TOKEN_ROUNDS:-3}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
# this run's jars, worktree and node files: under run/<stamp>, so runs on other ports
# (BENCH_* of lib.sh) may go on at the same time
runs="$stamp"
mkdir -p "$load_dir/results" "$load_dir/run/$runs/jars"
out="$load_dir/results/bench-$stamp.txt"
exec > >(tee "$out") 2>&1
cd "$repo"

baseline_trees=()
cleanup() {
  cluster_stop
  rm -rf "$load_dir/run/$runs"/*/node*/data   # the embedded databases; the node logs stay
  for tree in "${baseline_trees[@]}"; do
    git -C "$repo" worktree remove --force "$tree" || true
  done
}
trap cleanup EXIT

say() { printf '\n### %s\n' "$*"; }

say "machine"
machine_summary
echo "JAVA_OPTS of the nodes: $JAVA_OPTS"

# ---------------------------------------------------------------- the jars

labels=(current)
if ((build)); then
  echo "building the current tree: mvn -q -o -B -DskipTests package"
  mvn -q -o -B -DskipTests package
fi
cp "$repo/deploy/target/chat-node.jar" "$load_dir/run/$runs/jars/current.jar"
jars=("$load_dir/run/$runs/jars/current.jar")
echo "current: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!deploy/load' || echo ' with uncommitted changes')"
for baseline in "${baselines[@]}"; do
  rev=$(git rev-parse --short "$baseline^{commit}")
  # the first baseline is labelled "baseline", any further one by its commit
  label=baseline
  ((${#labels[@]} > 1)) && label="baseline-$rev"
  tree="$load_dir/run/$runs/$label-src"
  baseline_trees+=("$tree")
  git worktree prune
  git worktree add --detach "$tree" "$rev" >/dev/null
  echo "$label: $baseline = $rev, building it in a worktree: mvn -q -o -B -DskipTests package"
  (cd "$tree" && mvn -q -o -B -DskipTests package)
  cp "$tree/deploy/target/chat-node.jar" "$load_dir/run/$runs/jars/$label.jar"
  labels+=("$label")
  jars+=("$load_dir/run/$runs/jars/$label.jar")
done

for baseline_jar in "${baseline_jars[@]}"; do
  [[ -f $baseline_jar ]] || { echo "run-benchmarks: no jar at $baseline_jar" >&2; exit 1; }
  # the first baseline is labelled "baseline", any further one by its file name
  label=baseline
  ((${#labels[@]} > 1)) && label=$(basename "$baseline_jar" .jar)
  cp "$baseline_jar" "$load_dir/run/$runs/jars/$label.jar"
  echo "$label: the jar $baseline_jar"
  labels+=("$label")
  jars+=("$load_dir/run/$runs/jars/$label.jar")
done

wants() { [[ ",$only," == *",$1,"* ]]; }

# ---------------------------------------------------------------- the groups, jar by jar

# the chat group's runs: each jar, then each variant (the current jar with node settings)
chat_labels=("${labels[@]}") chat_jars=("${jars[@]}") chat_envs=()
for k in "${!labels[@]}"; do chat_envs+=(""); done
for variant in "${variants[@]}"; do
  chat_labels+=("${variant%%:*}") chat_jars+=("${jars[0]}") chat_envs+=("${variant#*:}")
done
for ((round = 1; round <= rounds; round++)); do
  for k in "${!chat_labels[@]}"; do
    wants chat || break 2
    tag=${chat_labels[k]}
    ((rounds > 1)) && tag+="-round$round"
    say "chat $tag"
    args=(--jar "${chat_jars[k]}" --label "$runs/chat-$tag")
    ((quick)) && args+=(--quick)
    IFS=, read -ra settings <<<"${chat_envs[k]}"
    for setting in "${settings[@]}"; do args+=(--env "$setting"); done
    "$load_dir/compare.sh" "${args[@]}" || echo "(compare.sh exit status $?)"
  done
done

for k in "${!labels[@]}"; do
  wants idle || break
  say "idle ${labels[k]}"
  # The measurement forces full GCs (jcmd GC.run, GC.class_histogram): on a busy machine they
  # stop the node for seconds, and a node that stood still for CHAT_NODE_LOSS_S - 1.5 s
  # restarts as a new member, closing every client (even a node alone): hence 30 here.
  cluster_start "${jars[k]}" "$runs/idle-${labels[k]}" 1 CHAT_PASSWORD_ITERATIONS=1000 CHAT_NODE_LOSS_S=30
  load --scenario idle --nodes "$(node_tcp 1)" --node-pid "$(node_pid 1)" \
    --sessions "$IDLE_SESSIONS" --hold-s "$IDLE_HOLD_S" --sample-s "$IDLE_SAMPLE_S" \
    --warm-sessions "$IDLE_WARM_SESSIONS" --warm-s "$IDLE_WARM_S" \
    --login-concurrency "${IDLE_LOGIN_CONCURRENCY:-32}" --setup-retries "${IDLE_SETUP_RETRIES:-3}" \
    --timeout-s $(((IDLE_SESSIONS + IDLE_WARM_SESSIONS) / 5 + IDLE_WARM_S + 300)) \
    --histogram "$load_dir/results/bench-$stamp-histogram-${labels[k]}.txt"
  echo "node threads: $(ls "/proc/$(node_pid 1)/task" | wc -l), open files: $(ls "/proc/$(node_pid 1)/fd" | wc -l)"
  cluster_stop
done

for ((round = 1; round <= rounds; round++)); do
  for k in "${!labels[@]}"; do
    wants logins || break 2
    tag=${labels[k]}
    ((rounds > 1)) && tag+="-round$round"
    say "logins $tag"
    cluster_start "${jars[k]}" "$runs/logins-$tag" 1
    for method in password token; do
      rounds_of_method=1
      [[ $method == token ]] && rounds_of_method=$TOKEN_ROUNDS
      load --scenario logins --method "$method" --nodes "$(node_tcp 1)" --node-pid "$(node_pid 1)" \
        --sessions "$LOGIN_USERS" --login-concurrency 32 --timeout-s 900 \
        --login-rounds "$rounds_of_method" \
        --hash-cost "PBKDF2-HMAC-SHA256, 120000 iterations (the default)"
    done
    cluster_stop
  done
done

for k in "${!labels[@]}"; do
  wants failover || break
  say "failover ${labels[k]}"
  cluster_start "${jars[k]}" "$runs/failover-${labels[k]}" 2 CHAT_PASSWORD_ITERATIONS=1000 CHAT_RATE_LIMIT=100000
  # A is node 2 (node 1 holds the embedded database), B is node 1
  load --scenario failover --nodes "$(node_tcp 2),$(node_tcp 1)" --node-pid "$(node_pid 2)" \
    --sessions "$FAILOVER_USERS" --login-concurrency 32 --timeout-s $((FAILOVER_USERS / 5 + 300))
  cluster_stop
done

say "summary"
awk '/^### / { group = substr($0, 5) } /^(RESULT|COMPARE) / { print group ": " $0 }' "$out"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "written to $out"
