#!/usr/bin/env python3
"""Split captured iSCSI TCP streams into PDUs and write them as golden vectors.

Reads `tshark -T fields -e tcp.stream -e tcp.srcport -e tcp.payload` lines on stdin, joins
each stream's payload per direction (loopback: no loss, no reordering), and frames PDUs with
RFC 7143 rules. Header/data digests are tracked per connection from the login text: they
start with the first PDU after the final Login Response (RFC 7143 §13.1).

Output, one PDU a line: `<I|T> <header-digest 0|1> <data-digest 0|1> <hex>`, where I is
initiator -> target. Independent of the Java codec on purpose.
"""
import sys

MAX_PER_OPCODE = int(sys.argv[2]) if len(sys.argv) > 2 else 8
target_port = int(sys.argv[1])

streams = {}
order = []
for line in sys.stdin:
    parts = line.rstrip("\n").split("\t")
    if len(parts) < 3 or not parts[2]:
        continue
    stream, src, payload = int(parts[0]), int(parts[1]), bytes.fromhex(parts[2].replace(":", ""))
    direction = "T" if src == target_port else "I"
    if stream not in streams:
        streams[stream] = []
        order.append(stream)
    streams[stream].append((direction, payload))


def text_keys(data):
    return dict(kv.split("=", 1) for kv in data.decode("utf-8", "replace").split("\0") if "=" in kv)


def frame(buf, hd, dd):
    """Return (pdu_bytes, rest) or None when buf holds no whole PDU."""
    if len(buf) < 48:
        return None
    ahs = buf[4] * 4
    dsl = int.from_bytes(buf[5:8], "big")
    length = 48 + ahs + (4 if hd else 0)
    if dsl:
        length += dsl + (-dsl % 4) + (4 if dd else 0)
    if len(buf) < length:
        return None
    return buf[:length], buf[length:]


for stream in order:
    # Interleave the two directions in capture order, framing each direction's byte stream.
    pending = {"I": b"", "T": b""}
    offered = {}
    active = {"hd": False, "dd": False}
    counts = {}
    for direction, payload in streams[stream]:
        pending[direction] += payload
        while True:
            framed = frame(pending[direction], active["hd"], active["dd"])
            if framed is None:
                break
            pdu, pending[direction] = framed
            opcode = pdu[0] & 0x3f
            key = (direction, opcode, pdu[1] & 0x80)
            counts[key] = counts.get(key, 0) + 1
            if opcode in (0x03, 0x23) or counts[key] <= MAX_PER_OPCODE:
                print(direction, int(active["hd"]), int(active["dd"]), pdu.hex())
            if opcode in (0x03, 0x23):
                dsl = int.from_bytes(pdu[5:8], "big")
                keys = text_keys(pdu[48 + pdu[4] * 4:48 + pdu[4] * 4 + dsl])
                offered.update({k: v for k, v in keys.items() if k in ("HeaderDigest", "DataDigest")})
                transit, nsg = pdu[1] & 0x80, pdu[1] & 0x03
                if opcode == 0x23 and transit and nsg == 3:
                    active["hd"] = offered.get("HeaderDigest") == "CRC32C"
                    active["dd"] = offered.get("DataDigest") == "CRC32C"
