#!/usr/bin/env bash
# Boots the VM lab's guest (lab/build-image.sh) under qemu with no network device, runs one
# command inside, and always ends the guest: the guest powers off when the command ends or its
# time limit passes, and this script kills qemu when the whole run's time limit passes or when it
# is itself stopped. The exit status is the command's (124 when a time limit ended it).
#
#   lab/run.sh [options] [--] command [args...]
#   lab/run.sh --shell                     an interactive shell in the guest (Ctrl-A X quits qemu)
# Options:
#   --results DIR      folder shared rw as /lab; the command runs there, and the guest writes
#                      command.log, exit-code and console.log to it (default: a temporary one)
#   --share HOST:GUEST[:rw]   a further host folder for the guest (read-only unless :rw)
#   --timeout SECONDS  limit for the whole run, boot included (default 600)
#   --jdk DIR          the JDK shared read-only as /opt/jdk (default: JAVA_HOME when it is a
#                      JDK 25, else /usr/lib/jvm/temurin-25-jdk-amd64)
# In the guest: Soft-RoCE device rxe0 on dummy0 (192.0.2.1/24), iscsid running, JAVA_HOME=/opt/jdk.
set -euo pipefail

lab_dir=$(cd "$(dirname "$0")" && pwd)
die() { printf '[lab] error: %s\n' "$*" >&2; exit 2; }
log() { printf '[lab] %s\n' "$*" >&2; }

results='' timeout=600 shell=0 shares=()
jdk=/usr/lib/jvm/temurin-25-jdk-amd64
if [ -n "${JAVA_HOME:-}" ] && "$JAVA_HOME/bin/java" -version 2>&1 | grep -q 'version "25'; then
  jdk=$JAVA_HOME
fi
while [ $# -gt 0 ]; do
  case $1 in
    --results) results=${2:?--results needs a folder}; shift 2 ;;
    --share) shares+=("${2:?--share needs HOST:GUEST}"); shift 2 ;;
    --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
    --jdk) jdk=${2:?--jdk needs a folder}; shift 2 ;;
    --shell) shell=1; timeout=86400; shift ;;
    --) shift; break ;;
    -*) die "unknown option $1 (see the comment at the top of lab/run.sh)" ;;
    *) break ;;
  esac
done
[ $shell = 1 ] || [ $# -gt 0 ] || die "no command given (or --shell)"
[[ $timeout =~ ^[0-9]+$ ]] && [ "$timeout" -ge 30 ] || die "--timeout must be a number of seconds >= 30, not '$timeout'"
[ -x "$jdk/bin/java" ] || die "no JDK at $jdk"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"

image=$("$lab_dir/build-image.sh") || die "the guest image could not be built"
{ read -r kernel; read -r initrd; read -r root_disk; } <<<"$image"

if [ -z "$results" ]; then
  results=$(mktemp -d /tmp/ostia-lab.XXXXXX)
  log "results in $results"
fi
mkdir -p "$results"
results=$(cd "$results" && pwd)
rm -f "$results"/{exit-code,command.log,console.log,command,mounts,time-limit,interactive}

qemu_shares=()
add_share() { # tag host-dir readonly
  qemu_shares+=(-fsdev "local,id=$1,path=$2,security_model=none,multidevs=remap${3:+,readonly=on}"
    -device "virtio-9p-pci,fsdev=$1,mount_tag=$1")
}
add_share lab "$results" ''
add_share jdk "$jdk" ro
echo "jdk /opt/jdk ro loose" >"$results/mounts"
i=0
for s in "${shares[@]}"; do
  IFS=: read -r host guest mode <<<"$s"
  [ -d "$host" ] || die "--share $s: no folder $host"
  [[ $guest == /* ]] || die "--share $s: the guest path must be absolute"
  if [ "$mode" = rw ]; then add_share "s$i" "$(cd "$host" && pwd)" ''; echo "s$i $guest rw none" >>"$results/mounts"
  else add_share "s$i" "$(cd "$host" && pwd)" ro; echo "s$i $guest ro loose" >>"$results/mounts"; fi
  i=$((i + 1))
done

# The command, quoted for the guest's sh.
quote() { local a out=''; for a; do out+=" '${a//\'/\'\\\'\'}'"; done; printf '%s' "$out"; }
{
  echo 'export JAVA_HOME=/opt/jdk PATH=/opt/jdk/bin:$PATH'
  [ $# -eq 0 ] || echo "exec$(quote "$@")"
} >"$results/command"
# The guest's own limit leaves the boot and the power-off inside the whole run's.
echo $((timeout - 25)) >"$results/time-limit"
[ $shell = 0 ] || : >"$results/interactive"

qemu=(qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 2048
  -nodefaults -nic none -no-reboot -display none
  -kernel "$kernel" -initrd "$initrd"
  -append "console=ttyS0 panic=-1 loglevel=4 mitigations=off"
  -drive "file=$root_disk,if=virtio,format=raw,snapshot=on"
  -device virtio-rng-pci "${qemu_shares[@]}")

started=$(date +%s)
if [ $shell = 1 ]; then
  # Interactive: the serial console and qemu's monitor on this terminal.
  exec "${qemu[@]}" -serial mon:stdio
fi

# setpriv: if this script dies without running its trap (SIGKILL), the kernel kills qemu too.
setpriv --pdeathsig KILL "${qemu[@]}" -serial stdio </dev/null > >(tee "$results/console.log") 2>&1 &
qemu_pid=$!
trap 'kill -KILL $qemu_pid 2>/dev/null || true' EXIT
trap 'exit 143' TERM INT HUP
while kill -0 $qemu_pid 2>/dev/null; do
  if [ $(( $(date +%s) - started )) -ge "$timeout" ]; then
    log "time limit of $timeout s passed: killing qemu"
    kill -KILL $qemu_pid 2>/dev/null || true
    break
  fi
  sleep 0.5
done
wait $qemu_pid 2>/dev/null || true
log "guest ran $(( $(date +%s) - started )) s"
if [ -f "$results/exit-code" ]; then
  exit "$(cat "$results/exit-code")"
fi
log "the guest ended without an exit code for the command (see $results/console.log)"
exit 124
