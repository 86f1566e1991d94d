package io.ostia.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's main job: `ostia demo` on a machine with nothing but the JDK. */
class DemoCommandTest {

    @Test
    void demoRunsTheInitiatorAgainstTheEmbeddedTarget() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"demo", "-d", "2", "--size", "64M", "-m", "8"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, () -> text + err.toString(StandardCharsets.UTF_8));
        assertTrue(text.contains("discovery found 1 target(s): [iqn.2026-11.io.ostia:demo]"), text);
        assertTrue(text.contains("compared: identical"), text);
        Matcher result = Pattern.compile("result: (\\d+) IOPS").matcher(text);
        assertTrue(result.find(), text);
        assertTrue(Long.parseLong(result.group(1)) > 0, text);
        assertTrue(text.contains("logged out; target stopped"), text);
    }

    /** iSER with no RDMA device: the loopback fabric, between the initiator and the embedded target's iSER portal. */
    @Test
    void demoAndPerfRunOverIser() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
        int demo = Main.run(new String[] {"demo", "-d", "1", "--size", "16M", "-m", "8", "--transport", "iser"},
                outStream, errStream);
        int perf = Main.run(new String[] {"perf", "--embedded", "16M", "-m", "8", "-d", "1", "--transport", "iser"},
                outStream, errStream);
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, demo, () -> text + err.toString(StandardCharsets.UTF_8));
        assertEquals(0, perf, () -> text + err.toString(StandardCharsets.UTF_8));
        assertTrue(text.contains("logged in over iser"), text);
        assertTrue(text.contains("compared: identical"), text);
        assertTrue(Pattern.compile("connected to iscsi://127\\.0\\.0\\.1:\\d+/iqn\\.2026-11\\.io\\.ostia:demo/0 over iser")
                .matcher(text).find(), text);
        assertTrue(Pattern.compile("allocated: \\d+ B per I/O in this JVM").matcher(text).find(), text);
    }

    @Test
    void badCommandLinesSayWhatIsWrong() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
        PrintStream nowhere = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertEquals(2, Main.run(new String[] {"frobnicate"}, nowhere, errStream));
        assertEquals(2, Main.run(new String[] {"perf", "-m", "zero", "iscsi://h/iqn.x/0"}, nowhere, errStream));
        assertEquals(2, Main.run(new String[] {"inq", "iscsi://h/iqn.x"}, nowhere, errStream));
        String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("unknown command 'frobnicate'"), text);
        assertTrue(text.contains("option -m needs a number, got 'zero'"), text);
        assertTrue(text.contains("names no LUN"), text);
    }

    @Test
    void unreachableTargetIsAClearError() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"ls", "iscsi://127.0.0.1:1"},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(1, status);
        String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("127.0.0.1:1"), text);
    }
}
