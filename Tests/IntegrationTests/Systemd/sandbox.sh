#!/bin/bash
# searchd's systemd test harness: boots a throwaway systemd as PID 1 in new PID
# and mount namespaces over an overlay of the host root, with the tree that
# `make install DESTDIR=TREE` left laid over it. Nothing reaches the host's files:
# systemd's boot-time cleanup would otherwise empty the host's /tmp.
#
#   sandbox.sh start DIR TREE [HIDE...]
#                               boot; prints the sandbox's PID 1 as the host sees it;
#                               each HIDE folder is empty inside (a tmpfs over it)
#   sandbox.sh exec PID CMD...  run CMD inside (systemctl, journalctl, kill…)
#   sandbox.sh stop PID         end the sandbox and everything in it
#
# The sandbox shares the host's network, so its sockets are reachable on loopback.
set -euo pipefail
cmd=${1:?usage: sandbox.sh start DIR TREE [HIDE...] | exec PID CMD... | stop PID}; shift
case "$cmd" in
start)
  dir=$(realpath -m "${1:?DIR}")
  tree=$(realpath "${2:?TREE}")
  shift 2
  mkdir -p "$dir"
  # The sandbox outlives this script: it must not keep any fd of our caller open
  # (a caller that waits for its pipes to close would wait forever).
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid unshare --pid --fork --mount --propagation private \
      "$0" _inner "$dir" "$tree" "$@" >"$dir/boot.log" 2>&1 </dev/null
  ) &
  outer=$!
  for _ in $(seq 300); do
    pid=$(pgrep -P "$outer" 2>/dev/null | head -1 || true)
    if [ -n "$pid" ]; then
      state=$(nsenter -t "$pid" -m -p systemctl is-system-running 2>/dev/null || true)
      case "$state" in running|degraded) echo "$pid"; exit 0;; esac
    fi
    sleep 0.2
  done
  echo "sandbox.sh: systemd did not finish booting in 60 s; see $dir/boot.log" >&2
  exit 1;;
_inner)
  dir=$1; tree=$2; shift 2
  scratch=$(mktemp -d "$dir/.scratch.XXXXXX")
  mount -t tmpfs -o size=2g tmpfs "$scratch"
  root=$scratch/merged
  mkdir -p "$scratch/upper" "$scratch/work" "$root"
  mount -t overlay overlay -o "lowerdir=/,upperdir=$scratch/upper,workdir=$scratch/work" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  for d in run tmp var/tmp var/log/journal; do
    mkdir -p "$root/$d"; mount -t tmpfs tmpfs "$root/$d"
  done
  for hidden in "$@"; do mount -t tmpfs -o ro tmpfs "$root$hidden"; done
  cp -a "$tree"/. "$root/"
  cd "$root"; mkdir -p .oldroot; pivot_root . .oldroot
  umount -l /.oldroot
  # Shared inside the sandbox, as / is on a booted host (systemd skips this when it thinks
  # it is in a container): LoadCredential= mounts each unit's credentials in a helper's
  # namespace and relies on the mount propagating back. The peers are the sandbox's own;
  # its namespace was made private from the host's above.
  mount --make-rshared /
  exec /lib/systemd/systemd --system --unit=multi-user.target;;
exec)
  pid=$1; shift; exec nsenter -t "$pid" -m -p "$@";;
stop)
  kill -9 "$1" 2>/dev/null || true;;
*)
  echo "sandbox.sh: unknown command $cmd" >&2; exit 2;;
esac
