# shellcheck shell=bash disable=SC2034
# Shared by start-cluster.sh and stop-cluster.sh (sourced, not run); the variables set here
# are used by those scripts.

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$script_dir/../.." && pwd)
RUN_DIR=${CHAT_RUN_DIR:-$script_dir/run}

# Prints the pid in pid file $1 when that process still runs a java -jar (a pid file left
# over from a crash may name a pid that now belongs to something else); fails otherwise.
running_pid() {
  local pid_file=$1 pid
  [[ -f $pid_file ]] || return 1
  pid=$(<"$pid_file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  ps -p "$pid" -o args= 2>/dev/null | grep -q -- ' -jar ' || return 1
  echo "$pid"
}
