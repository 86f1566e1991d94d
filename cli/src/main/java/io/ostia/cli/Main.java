package io.ostia.cli;

import io.ostia.api.IscsiException;
import java.io.PrintStream;
import java.util.Map;

/** {@code ostia <command> ...}: the command line of Ostia's initiator. */
public final class Main {

    static final String USAGE = """
            Usage: ostia <command> [options] ...      ostia <command> -h: that command's options

            Commands:
              demo    start the embedded target on loopback and run the initiator against it
              target  serve one LUN (RAM, or a file) from the embedded target until Ctrl-C
              ls      discover targets with SendTargets, and with -s their LUNs
              inq     standard INQUIRY, a VPD page, block size and capacity of a LUN
              dd      copy blocks between a LUN and a file or another LUN
              perf    measure IOPS and MiB/s against a LUN
              swap    move a session between transports under a write-and-verify load; print the pauses
              swap-bench  measure the I/O pause of live TCP/iSER swaps under load, on loopback

            iSCSI URL: iscsi://[user[%password]@]host[:port][/target-iqn[/lun]]
                       [?target_user=U&target_password=P]  (mutual CHAP: the target's name and secret)
            CHAP from the environment when the URL has none, as libiscsi's tools read it:
              LIBISCSI_CHAP_USERNAME, LIBISCSI_CHAP_PASSWORD, LIBISCSI_CHAP_TARGET_USERNAME,
              LIBISCSI_CHAP_TARGET_PASSWORD
            Options of every command that logs in: -i initiator name, --transport=tcp,iser
              (preference order), --header-digest / --data-digest none|crc32c|prefer-crc32c|prefer-none
            OSTIA_LOG=info|debug shows more log lines; debug also each error's full cause chain.
            Exit status: 0 done, 1 failed, 2 bad command line.
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
        return run(argv, out, err, "debug".equalsIgnoreCase(System.getenv("OSTIA_LOG")));
    }

    static int run(String[] argv, PrintStream out, PrintStream err, boolean causes) {
        if (argv.length == 0 || argv[0].equals("-h") || argv[0].equals("--help") || argv[0].equals("help")) {
            (argv.length == 0 ? err : out).print(USAGE);
            return argv.length == 0 ? 2 : 0;
        }
        Map<String, Command> commands = Map.of(
                "demo", new DemoCommand(),
                "target", new TargetCommand(),
                "ls", new LsCommand(),
                "inq", new InqCommand(),
                "dd", new DdCommand(),
                "perf", new PerfCommand(),
                "swap", new SwapCommand(),
                "swap-bench", new SwapBenchCommand());
        Command command = commands.get(argv[0]);
        if (command == null) {
            err.println("ostia: unknown command '" + argv[0] + "'; 'ostia help' lists the commands");
            return 2;
        }
        if (java.util.Arrays.stream(argv, 1, argv.length).anyMatch(a -> a.equals("-h") || a.equals("--help"))) {
            out.print(command.usage());
            return 0;
        }
        try {
            return command.run(argv, out, err);
        } catch (Args.UsageException | IllegalArgumentException e) {
            err.println("ostia " + argv[0] + ": " + e.getMessage());
            err.println("'ostia " + argv[0] + " -h' shows its options");
            return 2;
        } catch (IscsiException e) {
            err.println("ostia " + argv[0] + ": " + e.getMessage());
            for (Throwable c = e.getCause(); causes && c != null && c != c.getCause(); c = c.getCause()) {
                err.println("  caused by: " + c);
            }
            return 1;
        }
    }

    /** One subcommand. */
    interface Command {
        int run(String[] argv, PrintStream out, PrintStream err) throws Args.UsageException, IscsiException;

        /** This command's usage and options, for {@code ostia <command> -h}. */
        String usage();
    }
}
