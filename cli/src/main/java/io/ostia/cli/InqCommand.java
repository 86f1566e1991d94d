package io.ostia.cli;

import io.ostia.api.IscsiException;
import io.ostia.api.IscsiUrl;
import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.Session;
import io.ostia.api.scsi.Capacity;
import io.ostia.api.scsi.Cdb;
import io.ostia.api.scsi.InquiryData;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;

/** {@code ostia inq}: standard INQUIRY or a VPD page, like libiscsi's iscsi-inq. */
final class InqCommand implements Main.Command {

    private static final int ALLOCATION = 4096;
    /** SPC-4 §6.6.2: the target cannot attach a logical unit at this LUN. */
    private static final int NO_LOGICAL_UNIT = 3;

    @Override
    public String usage() {
        return """
                Usage: ostia inq [-e] [-c page] [options] iscsi://host[:port]/target-iqn/lun
                  Standard INQUIRY with block size and capacity, or a VPD page, as iscsi-inq does;
                  exits 1 with LOGICAL_UNIT_NOT_SUPPORTED when the LUN does not exist.
                  -e, --evpd          read a VPD page
                  -c, --pagecode n    which VPD page, decimal or hex (0x83)
                """ + Connection.USAGE;
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws Args.UsageException, IscsiException {
        Args args = Args.parse(argv, 1, Connection.union(Connection.FLAGS, Set.of("e")),
                Connection.union(Connection.VALUES, Set.of("c")),
                Connection.union(Connection.ALIASES, Map.of("evpd", "e", "pagecode", "c")));
        IscsiUrl url = IscsiUrl.parse(args.single("iSCSI URL of a LUN"));
        url.requireTarget();
        int lun = url.lun().orElseThrow(() -> new IllegalArgumentException("the URL names no LUN: " + url));
        int page = args.flag("e") ? args.intValue("c", 0, 0, 255) : -1;
        // The arena first, so it closes last, after the session no longer uses its buffer.
        try (Arena arena = Arena.ofShared();
             ClosableInitiator initiator = Initiators.create();
             Session session = initiator.login(Connection.options(args, url).build())) {
            MemorySegment buffer = arena.allocate(ALLOCATION);
            ScsiResult r = session.executeOrThrow(ScsiRequest.read(lun, Cdb.inquiry(page, ALLOCATION), buffer));
            int length = (int) (ALLOCATION - Math.max(0, r.residual()));
            byte[] data = buffer.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
            if (page < 0) {
                InquiryData inquiry = InquiryData.parse(data, length);
                if (inquiry.peripheralQualifier() == NO_LOGICAL_UNIT) {
                    err.println("ostia inq: LUN " + lun + " of " + url.targetName().orElseThrow()
                            + ": LOGICAL_UNIT_NOT_SUPPORTED (peripheral qualifier 3)");
                    return 1;
                }
                printStandard(out, inquiry);
                if (inquiry.deviceType() == InquiryData.DIRECT_ACCESS_BLOCK_DEVICE) {
                    Capacity capacity = session.open(lun).capacity();
                    out.println("Block Size:" + capacity.blockLength());
                    out.println("Capacity:" + capacity.bytes() + " (" + LsCommand.humanSize(capacity.bytes()) + ")");
                }
            } else {
                printVpd(out, page, data);
            }
        }
        return 0;
    }

    private static void printStandard(PrintStream out, InquiryData inq) {
        out.println("Peripheral Qualifier:" + (inq.peripheralQualifier() == 0 ? "CONNECTED" : inq.peripheralQualifier()));
        out.println("Peripheral Device Type:" + deviceTypeName(inq.deviceType()));
        out.println("Removable:" + (inq.removable() ? 1 : 0));
        out.println("Version:" + inq.version());
        out.println("Vendor:" + inq.vendor());
        out.println("Product:" + inq.product());
        out.println("Revision:" + inq.revision());
    }

    private static void printVpd(PrintStream out, int page, byte[] data) {
        if (data.length < 4) {
            throw new IllegalArgumentException("VPD page 0x" + Integer.toHexString(page) + " answer is only " + data.length + " bytes");
        }
        int pageLength = Math.min((data[2] & 0xff) << 8 | (data[3] & 0xff), data.length - 4);
        out.printf("Page Code:0x%02x%n", data[1] & 0xff);
        switch (page) {
            case 0x00 -> {
                out.print("Supported VPD pages:");
                for (int i = 0; i < pageLength; i++) {
                    out.printf(" 0x%02x", data[4 + i] & 0xff);
                }
                out.println();
            }
            case 0x80 -> out.println("Unit Serial Number:" + new String(data, 4, pageLength, StandardCharsets.US_ASCII).trim());
            case 0x83 -> {
                for (int at = 4; at + 4 <= 4 + pageLength; ) {
                    int codeSet = data[at] & 0x0f;
                    int type = data[at + 1] & 0x0f;
                    int length = data[at + 3] & 0xff;
                    if (at + 4 + length > data.length) {
                        break;
                    }
                    String value = codeSet == 2 || codeSet == 3
                            ? new String(data, at + 4, length, StandardCharsets.UTF_8).trim()
                            : HexFormat.of().formatHex(data, at + 4, at + 4 + length);
                    out.println("Designator: type " + designatorType(type) + ", " + value);
                    at += 4 + length;
                }
            }
            default -> out.println("Data:" + HexFormat.of().formatHex(data, 4, 4 + pageLength));
        }
    }

    private static String designatorType(int type) {
        return switch (type) {
            case 0 -> "vendor specific";
            case 1 -> "T10 vendor id";
            case 2 -> "EUI-64";
            case 3 -> "NAA";
            case 4 -> "relative target port";
            case 5 -> "target port group";
            case 6 -> "logical unit group";
            case 7 -> "MD5 logical unit id";
            case 8 -> "SCSI name string";
            default -> "0x" + Integer.toHexString(type);
        };
    }

    static String deviceTypeName(int type) {
        return switch (type) {
            case 0x00 -> "DIRECT_ACCESS";
            case 0x01 -> "SEQUENTIAL_ACCESS";
            case 0x05 -> "MMC";
            case 0x0c -> "STORAGE_ARRAY_CONTROLLER";
            case 0x0d -> "ENCLOSURE_SERVICES";
            case 0x1f -> "UNKNOWN";
            default -> String.format("0x%02x", type);
        };
    }
}
