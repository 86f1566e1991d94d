#!/usr/bin/env python3
"""A minimal iSCSI initiator that negotiates CRC32C header AND data digests with tgtd.

libiscsi 1.19 cannot negotiate data digests, so capture-golden.sh runs this probe to get tgtd
to compute data digests on real traffic. It logs in (one operational round), sends INQUIRY
with an odd allocation length (so the Data-In is padded), a WRITE(10) with 512 bytes of
immediate data, a NOP-Out ping with 5 bytes, then logs out. It frames, digests and checks
everything itself (CRC32C from its own table below, nothing shared with the Java codec); tgtd
closes the connection on a wrong digest, so a passing run confirms the byte order too.

Usage: digest_probe.py <port> <target-iqn>
"""
import socket
import struct
import sys

POLY = 0x82F63B78  # CRC32C (Castagnoli), reflected
TABLE = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ POLY if c & 1 else c >> 1
    TABLE.append(c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def digest(data):
    # RFC 7143: the CRC goes on the wire least significant byte first.
    return struct.pack("<I", crc32c(data))


def padded(data):
    return data + b"\0" * (-len(data) % 4)


class Connection:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.digests = False

    def send(self, bhs, data=b""):
        assert len(bhs) == 48
        bhs = bhs[:5] + len(data).to_bytes(3, "big") + bhs[8:]
        out = bhs + (digest(bhs) if self.digests else b"")
        if data:
            out += padded(data) + (digest(padded(data)) if self.digests else b"")
        self.sock.sendall(out)

    def read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise SystemExit("target closed the connection")
            buf += chunk
        return buf

    def receive(self):
        bhs = self.read(48)
        ahs = self.read(bhs[4] * 4)
        if self.digests and digest(bhs + ahs) != self.read(4):
            raise SystemExit("bad header digest from target")
        dsl = int.from_bytes(bhs[5:8], "big")
        data = b""
        if dsl:
            data = self.read(dsl + (-dsl % 4))
            if self.digests and digest(data) != self.read(4):
                raise SystemExit("bad data digest from target")
        return bhs, data[:dsl]


def main():
    port, iqn = int(sys.argv[1]), sys.argv[2]
    c = Connection(port)
    text = ("InitiatorName=iqn.2025-11.io.ostia:digest-probe\0TargetName=%s\0SessionType=Normal\0"
            "HeaderDigest=CRC32C\0DataDigest=CRC32C\0ImmediateData=Yes\0MaxRecvDataSegmentLength=8192\0" % iqn)
    isid_tsih = bytes.fromhex("00023d0000010000")
    # Login: T=1, CSG=1 (operational), NSG=3 (full feature); ITT 1, CID 0, CmdSN 1.
    c.send(bytes([0x43, 0x87, 0, 0, 0, 0, 0, 0]) + isid_tsih + struct.pack(">IHHII", 1, 0, 0, 1, 0) + bytes(16),
           text.encode())
    bhs, data = c.receive()
    negotiated = data
    # tgtd offers FirstBurstLength / MaxBurstLength itself and waits (T=0) for answers: accept
    # its values, which the minimum function allows, and ask again to go to full feature phase.
    for _ in range(3):
        if bhs[0] & 0x3F != 0x23 or bhs[36] != 0:
            raise SystemExit("login failed: %s %r" % (bhs.hex(), data))
        if bhs[1] & 0x83 == 0x83:
            break
        ours = ("HeaderDigest", "DataDigest", "ImmediateData", "TargetPortalGroupTag", "MaxRecvDataSegmentLength")
        answers = b"".join(kv + b"\0" for kv in data.split(b"\0") if kv and kv.split(b"=")[0].decode() not in ours)
        c.send(bytes([0x43, 0x87, 0, 0, 0, 0, 0, 0]) + isid_tsih[:6] + bhs[14:16]
               + struct.pack(">IHHII", 1, 0, 0, 1, struct.unpack(">I", bhs[24:28])[0] + 1) + bytes(16), answers)
        bhs, data = c.receive()
        negotiated += data
    else:
        raise SystemExit("login did not reach full feature phase: " + bhs.hex())
    if b"HeaderDigest=CRC32C" not in negotiated or b"DataDigest=CRC32C" not in negotiated:
        raise SystemExit("target did not accept digests: %r" % negotiated)
    stat_sn = struct.unpack(">I", bhs[24:28])[0]
    c.digests = True
    lun = bytes.fromhex("0001000000000000")
    cmd_sn = 1

    def command(flags, itt, expected, cdb, data=b""):
        nonlocal cmd_sn
        c.send(bytes([0x01, flags, 0, 0, 0, 0, 0, 0]) + lun + struct.pack(">IIII", itt, expected, cmd_sn, stat_sn + 1)
               + cdb.ljust(16, b"\0"), data)
        cmd_sn += 1

    def until_status(itt):
        nonlocal stat_sn
        while True:
            bhs, data = c.receive()
            opcode = bhs[0] & 0x3F
            if opcode == 0x21 or (opcode == 0x25 and bhs[1] & 0x01):
                stat_sn = struct.unpack(">I", bhs[24:28])[0]
                return

    command(0xC1, 2, 59, bytes([0x12, 0, 0, 0, 59, 0]))  # INQUIRY, 59 bytes: padded Data-In
    until_status(2)
    block = bytes((i * 7) & 0xFF for i in range(512))
    command(0xA1, 3, 512, bytes([0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0]), block)  # WRITE(10) LBA 0, immediate data
    until_status(3)
    # NOP-Out ping with 5 bytes (padded), immediate: ITT 4, TTT 0xffffffff.
    c.send(bytes([0x40, 0x80, 0, 0, 0, 0, 0, 0]) + lun + struct.pack(">IIII", 4, 0xFFFFFFFF, cmd_sn, stat_sn + 1)
           + bytes(16), b"ping!")
    bhs, data = c.receive()
    if bhs[0] & 0x3F != 0x20 or data != b"ping!":
        raise SystemExit("expected the NOP-In echo, got %s %r" % (bhs.hex(), data))
    # Logout: close the session.
    c.send(bytes([0x46, 0x80, 0, 0, 0, 0, 0, 0]) + bytes(8) + struct.pack(">IHHII", 5, 0, 0, cmd_sn, stat_sn + 1)
           + bytes(16))
    bhs, _ = c.receive()
    if bhs[0] & 0x3F != 0x26:
        raise SystemExit("expected a Logout Response, got " + bhs.hex())
    print("digest probe: login, INQUIRY, WRITE, NOP, logout all with CRC32C header and data digests")


if __name__ == "__main__":
    main()
