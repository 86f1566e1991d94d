package io.ostia.cli;

import io.ostia.api.text.DiscoveredTarget;
import io.ostia.api.IscsiException;
import io.ostia.api.IscsiUrl;
import io.ostia.api.ScsiException;
import io.ostia.api.ScsiRequest;
import io.ostia.api.ScsiResult;
import io.ostia.api.Session;
import io.ostia.api.SessionOptions;
import io.ostia.api.scsi.Capacity;
import io.ostia.api.scsi.Cdb;
import io.ostia.api.scsi.InquiryData;
import io.ostia.initiator.ClosableInitiator;
import io.ostia.initiator.Initiators;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code ostia ls}: SendTargets discovery, like libiscsi's iscsi-ls. */
final class LsCommand implements Main.Command {

    @Override
    public String usage() {
        return """
                Usage: ostia ls [-s] [options] iscsi://[user[%password]@]host[:port]
                  Discovers targets with SendTargets and lists them, as iscsi-ls does.
                  -s, --show-luns   also log in to each target and list its LUNs; a target whose LUNs
                                    cannot be shown is named on stderr with the reason (exit status 1)
                """ + Connection.USAGE;
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws Args.UsageException, IscsiException {
        Args args = Args.parse(argv, 1, Connection.union(Connection.FLAGS, Set.of("s")), Connection.VALUES,
                Connection.union(Connection.ALIASES, Map.of("show-luns", "s")));
        IscsiUrl url = IscsiUrl.parse(args.single("iSCSI portal URL"));
        try (ClosableInitiator initiator = Initiators.create()) {
            List<DiscoveredTarget> targets = initiator.discover(Connection.options(args, url).build());
            int unlisted = 0;
            for (DiscoveredTarget target : targets) {
                String portal = target.addresses().isEmpty() ? url.host() + ":" + url.port()
                        : target.addresses().getFirst().toString();
                out.println("Target:" + target.name() + " Portal:" + portal);
                if (args.flag("s") && !listLuns(initiator, Connection.options(args, url).targetName(target.name())
                        .build(), out, err)) {
                    unlisted++;
                }
            }
            return unlisted == 0 ? 0 : 1;
        }
    }

    /**
     * Prints a target's LUNs; when it cannot (a target that wants CHAP, or refuses this initiator),
     * says why on {@code err} and returns false, so that the other targets are still listed.
     */
    private static boolean listLuns(ClosableInitiator initiator, SessionOptions options, PrintStream out,
            PrintStream err) {
        try (Session session = initiator.login(options)) {
            for (int lun : session.reportLuns()) {
                out.println("Lun:" + lun + " " + describe(session, lun));
            }
            return true;
        } catch (IscsiException e) {
            err.println("ostia ls: LUNs of " + options.targetName().orElseThrow() + " not shown: " + e.getMessage());
            return false;
        }
    }

    /** "Type:DIRECT_ACCESS (Size:255M)" as iscsi-ls prints it. */
    static String describe(Session session, int lun) throws IscsiException {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(96);
            ScsiResult r = session.executeOrThrow(ScsiRequest.read(lun, Cdb.inquiry(-1, 96), buffer));
            InquiryData inq = InquiryData.parse(buffer.toArray(ValueLayout.JAVA_BYTE), (int) (96 - Math.max(0, r.residual())));
            String type = "Type:" + InqCommand.deviceTypeName(inq.deviceType());
            if (inq.deviceType() != InquiryData.DIRECT_ACCESS_BLOCK_DEVICE) {
                return type;
            }
            try {
                Capacity capacity = session.open(lun).capacity();
                return type + " (Size:" + humanSize(capacity.bytes()) + ")";
            } catch (ScsiException e) {
                return type + " (capacity unknown: " + e.getMessage() + ")";
            }
        }
    }

    static String humanSize(long bytes) {
        String[] units = {"", "k", "M", "G", "T", "P"};
        int unit = 0;
        long value = bytes;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return value + units[unit];
    }
}
