package io.ostia.distribution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.testing.ExternalTool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Runs the assembled distribution's launcher with no arguments, as README tells a user to: Felix
 * starts, the session moves TCP -> iSER -> TCP under its write-and-verify load, and the demo
 * exits 0 having read every acknowledged write back, with zero failed I/O.
 */
class SwapDemoIT {

    @Test
    void theDemoMovesTheSessionBothWaysWithoutAFailedIo() {
        Path home = Path.of(System.getProperty("ostia.distribution", "target/ostia-felix"));
        Path launcher = home.resolve("bin/ostia-felix");
        assertTrue(Files.isExecutable(launcher), launcher + " is an executable file (made by package)");

        ExternalTool.Result result = ExternalTool.run(Duration.ofMinutes(3),
                List.of("env", "JAVA_HOME=" + System.getProperty("java.home"), launcher.toString()));
        String out = result.output();
        assertEquals(0, result.exitCode(), () -> "the demo's exit code; it printed:\n" + out);
        assertTrue(out.contains("session logged in over tcp"), out);
        assertTrue(Pattern.compile("moved TCP -> iSER \\(switchTransport\\): I/O paused \\d+\\.\\d ms").matcher(out).find(), out);
        assertTrue(Pattern.compile("moved iser -> tcp \\(TRANSPORT_LEAVING\\): I/O paused \\d+\\.\\d ms").matcher(out).find(), out);
        Matcher summary = Pattern.compile("writes acknowledged: (\\d+), chunks read back: (\\d+), failed I/O: (\\d+)")
                .matcher(out);
        assertTrue(summary.find(), out);
        assertTrue(Long.parseLong(summary.group(1)) > 0, "writes were made: " + summary.group());
        assertTrue(Long.parseLong(summary.group(2)) > 0, "writes were read back: " + summary.group());
        assertEquals(0, Long.parseLong(summary.group(3)), summary.group());
        for (String where : List.of("over TCP", "over iSER", "over TCP again")) {
            Matcher phase = Pattern.compile("(\\d+) writes verified " + Pattern.quote(where) + "\\n").matcher(out);
            assertTrue(phase.find(), where + " in\n" + out);
            assertTrue(Long.parseLong(phase.group(1)) > 0, "writes " + where + ": " + phase.group());
        }
    }
}
