#!/usr/bin/env bash
# Recaptures the golden PDU vectors in ../resources/golden from real traffic between libiscsi's
# tools and tgtd on loopback. Needs root (tgtd, tshark on lo) and the Debian packages tgt,
# libiscsi-bin and tshark. Usage: capture-golden.sh [output-dir]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../resources/golden}
mkdir -p "$out"
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
control=$((1 + RANDOM % 30000))  # tgtadm -C takes 0..32767
iqn=iqn.2025-11.io.ostia:golden
url=iscsi://127.0.0.1:$port/$iqn/1
tgtadm_() { tgtadm -C "$control" --lld iscsi "$@"; }

cleanup() {
  set +e
  [ -n "${tshark_pid:-}" ] && kill "$tshark_pid" 2>/dev/null && wait "$tshark_pid" 2>/dev/null
  if [ -n "${tgtd_pid:-}" ]; then
    tgtadm_ --mode target --op delete --force --tid 1 >/dev/null 2>&1
    tgtadm_ --op delete --mode system >/dev/null 2>&1
    wait "$tgtd_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

tgtd -f -C "$control" --iscsi portal=127.0.0.1:$port >"$work/tgtd.log" 2>&1 &
tgtd_pid=$!
for _ in $(seq 50); do tgtadm_ --mode target --op show >/dev/null 2>&1 && break; sleep 0.1; done
truncate -s 8M "$work/lun1.img"
tgtadm_ --mode target --op new --tid 1 -T "$iqn"
tgtadm_ --mode logicalunit --op new --tid 1 --lun 1 -b "$work/lun1.img"
tgtadm_ --mode target --op bind --tid 1 -I ALL
# Small bursts so that a two-block write needs an R2T (InitialR2T=Yes) and vectors stay short.
tgtadm_ --mode target --op update --tid 1 -n InitialR2T -v Yes
tgtadm_ --mode target --op update --tid 1 -n FirstBurstLength -v 512
tgtadm_ --mode target --op update --tid 1 -n MaxBurstLength -v 1024
tgtadm_ --mode target --op update --tid 1 -n MaxRecvDataSegmentLength -v 1024

# capture NAME COMMAND...: one pcap per scenario, split into PDUs.
capture() {
  local name=$1; shift
  tshark -q -i lo -f "tcp port $port" -w "$work/$name.pcapng" >/dev/null 2>&1 &
  tshark_pid=$!
  sleep 1.5
  "$@" >"$work/$name.out" 2>&1 || { echo "note: '$*' exited with $?:" >&2; tail -3 "$work/$name.out" >&2; }
  sleep 0.5
  kill "$tshark_pid"; wait "$tshark_pid" 2>/dev/null || true
  tshark_pid=
  {
    echo "# scenario: $name"
    echo "# command: $*"
    echo "# line: <I|T sender> <header digest present 0|1> <data digest present 0|1> <PDU hex>"
    tshark -r "$work/$name.pcapng" -T fields -e tcp.stream -e tcp.srcport -e tcp.payload 'tcp.len > 0' \
      | python3 "$here/split_pdus.py" "$port" 8
  } >"$out/$name.txt"
  echo "$name: $(grep -vc '^#' "$out/$name.txt") PDUs"
}

capture discovery iscsi-ls -s "iscsi://127.0.0.1:$port"
capture readcapacity iscsi-readcapacity16 "$url"
# libiscsi 1.19 offers HeaderDigest=None,CRC32C (and DataDigest=None only, it has no data
# digest): a target configured for CRC32C picks it.
tgtadm_ --mode target --op update --tid 1 -n HeaderDigest -v CRC32C
capture inquiry-header-digest iscsi-inq -e 1 -c 0x80 "$url?header_digest=crc32c"
# Data digests: libiscsi has none, so a small independent Python initiator asks for both.
tgtadm_ --mode target --op update --tid 1 -n DataDigest -v CRC32C
capture data-digest python3 "$here/digest_probe.py" "$port" "$iqn"
tgtadm_ --mode target --op update --tid 1 -n HeaderDigest -v None
tgtadm_ --mode target --op update --tid 1 -n DataDigest -v None
capture write-r2t iscsi-test-cu --dataloss --test=iSCSI.iSCSIResiduals.Write10Residuals "$url"
capture task-management iscsi-test-cu --dataloss --test=iSCSI.iSCSITMF.AbortTaskSimpleAsync "$url"
tgtadm_ --mode target --op update --tid 1 -n nop_interval -v 1
tgtadm_ --mode target --op update --tid 1 -n nop_count -v 5
capture nop timeout -s INT 3 iscsi-perf -b 1 -m 1 "$url"
tgtadm_ --mode target --op update --tid 1 -n nop_interval -v 0
tgtadm_ --mode account --op new --user ostia-user --password ostia-secret-12
tgtadm_ --mode account --op bind --tid 1 --user ostia-user
capture chap iscsi-inq "iscsi://ostia-user%ostia-secret-12@127.0.0.1:$port/$iqn/1"
{
  echo "tgt: $(dpkg-query -W -f '${Version}' tgt)"
  echo "libiscsi-bin: $(dpkg-query -W -f '${Version}' libiscsi-bin)"
  echo "tshark: $(dpkg-query -W -f '${Version}' tshark)"
} >"$out/VERSIONS"
