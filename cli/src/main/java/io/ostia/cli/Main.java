package io.ostia.cli;

import io.ostia.api.IscsiException;
import java.io.PrintStream;
import java.util.Map;

/** {@code ostia <command> ...}: the command line of Ostia's initiator. */
public final class Main {

    static final String USAGE = """
            Usage: ostia <command> [options] <iscsi-url>

            Commands:
              ls   [-i iqn] [-s] iscsi://host[:port]
                   discover targets with SendTargets; -s also lists each target's LUNs
              inq  [-i iqn] [-e] [-c page] iscsi://host[:port]/target-iqn/lun
                   standard INQUIRY, or the VPD page given by -c when -e is set
              perf [-i iqn] [-m depth] [-b blocks] [-r] [-w] [-s seconds] [-t timeout] iscsi://host[:port]/target-iqn/lun
                   measure IOPS and MiB/s: -m requests in flight (32), -b blocks per request (8),
                   -r random offsets, -w write instead of read (destroys data!), -s run time (10,
                   0 = until interrupted), -t command timeout in seconds (30)

            iSCSI URL: iscsi://[user[%password]@]host[:port][/target-iqn[/lun]]
            Common options: -i initiator name, --transport=tcp,iser (preference order)
            """;

    private Main() {
    }

    public static void main(String[] argv) {
        System.exit(run(argv, System.out, System.err));
    }

    /** Runs a command; returns the exit status (0 ok, 1 failed, 2 usage). */
    static int run(String[] argv, PrintStream out, PrintStream err) {
        if (argv.length == 0 || argv[0].equals("-h") || argv[0].equals("--help") || argv[0].equals("help")) {
            (argv.length == 0 ? err : out).print(USAGE);
            return argv.length == 0 ? 2 : 0;
        }
        Map<String, Command> commands = Map.of(
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
