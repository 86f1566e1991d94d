package io.ostia.cli;

import io.ostia.api.IscsiException;
import java.io.PrintStream;
import java.util.Map;

/** {@code ostia <command> ...}: the command line of Ostia's initiator. */
public final class Main {

    static final String USAGE = """
            Usage: ostia <command> [options] <iscsi-url>

            Commands:
              demo [-s seconds] [--size 256M] [-m depth]
                   start the embedded target on loopback and run the initiator against it
              target [-a address] [-p port] [-n iqn] [-s size] [-f file] [-b 512|4096] [-r] [--chap user%secret]
                     [--iser native|loopback]
                   serve one LUN (RAM, or a file with -f) from the embedded target until Ctrl-C;
                   --iser serves iSER on that RDMA provider instead of iSCSI over TCP
              ls   [-i iqn] [-s] iscsi://host[:port]
                   discover targets with SendTargets; -s also lists each target's LUNs
              inq  [-i iqn] [-e] [-c page] iscsi://host[:port]/target-iqn/lun
                   standard INQUIRY, or the VPD page given by -c when -e is set
              perf [-i iqn] [-m depth] [-b blocks] [-r] [-w] [-s seconds] [-t timeout] [--warmup seconds] iscsi://host[:port]/target-iqn/lun
                   measure IOPS and MiB/s: -m requests in flight (32), -b blocks per request (8),
                   -r random offsets, -w write instead of read (destroys data!), -s run time (10,
                   0 = until interrupted), -t command timeout in seconds (30), --warmup seconds of
                   load left out of the figures (0)

            iSCSI URL: iscsi://[user[%password]@]host[:port][/target-iqn[/lun]]
            Common options: -i initiator name, --transport=tcp,iser (preference order)
            """;

    private Main() {
    }

    public static void main(String[] argv) {
        configureLogging(System.getenv("OSTIA_LOG"));
        System.exit(run(argv, System.out, System.err));
    }

    /**
     * Warnings and errors only, one line each, on stderr; {@code OSTIA_LOG=info} or {@code debug}
     * shows more (recovery, transport events).
     */
    static void configureLogging(String level) {
        java.util.logging.Level threshold = switch (level == null ? "" : level.toLowerCase(java.util.Locale.ROOT)) {
            case "debug" -> java.util.logging.Level.FINE;
            case "info" -> java.util.logging.Level.INFO;
            default -> java.util.logging.Level.WARNING;
        };
        System.setProperty("java.util.logging.SimpleFormatter.format", "ostia: %4$s: %5$s%6$s%n");
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        root.setLevel(threshold);
        for (java.util.logging.Handler h : root.getHandlers()) {
            h.setLevel(threshold);
            h.setFormatter(new java.util.logging.SimpleFormatter());
        }
    }

    /** Runs a command; returns the exit status (0 ok, 1 failed, 2 usage). */
    static int run(String[] argv, PrintStream out, PrintStream err) {
        if (argv.length == 0 || argv[0].equals("-h") || argv[0].equals("--help") || argv[0].equals("help")) {
            (argv.length == 0 ? err : out).print(USAGE);
            return argv.length == 0 ? 2 : 0;
        }
        Map<String, Command> commands = Map.of(
                "demo", new DemoCommand(),
                "target", new TargetCommand(),
                "ls", new LsCommand(),
                "inq", new InqCommand(),
                "perf", new PerfCommand());
        Command command = commands.get(argv[0]);
        if (command == null) {
            err.println("ostia: unknown command '" + argv[0] + "'");
            err.print(USAGE);
            return 2;
        }
        try {
            return command.run(argv, out, err);
        } catch (Args.UsageException e) {
            err.println("ostia " + argv[0] + ": " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (IllegalArgumentException e) {
            err.println("ostia " + argv[0] + ": " + e.getMessage());
            return 2;
        } catch (IscsiException e) {
            err.println("ostia " + argv[0] + ": " + e.getMessage());
            for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
                err.println("  caused by: " + c.getMessage());
            }
            return 1;
        }
    }

    /** One subcommand. */
    interface Command {
        int run(String[] argv, PrintStream out, PrintStream err) throws Args.UsageException, IscsiException;
    }
}
