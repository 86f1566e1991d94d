package io.ostia.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** `ostia swap` against the embedded target: TCP -> TCP moves under a write-and-verify load. */
class SwapCommandTest {

    @Test
    void movesUnderLoadAndCountsNoFailure() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"swap", "-n", "5", "-p", "100", "-m", "4"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, () -> text + err.toString(StandardCharsets.UTF_8));
        for (int i = 1; i <= 5; i++) {
            assertTrue(Pattern.compile("move " + i + ": tcp -> tcp, I/O paused \\d+\\.\\d ms").matcher(text).find(), text);
        }
        assertTrue(Pattern.compile("pause over 5 moves: median \\d+\\.\\d ms, worst \\d+\\.\\d ms").matcher(text).find(), text);
        Matcher summary = Pattern.compile("writes acknowledged: (\\d+), chunks read back: (\\d+), failed I/O: (\\d+)")
                .matcher(text);
        assertTrue(summary.find(), text);
        assertTrue(Long.parseLong(summary.group(1)) > 0, summary.group());
        assertTrue(Long.parseLong(summary.group(2)) > 0, summary.group());
        assertEquals("0", summary.group(3), summary.group());
    }

    @Test
    void aRealLunNeedsConsentToBeOverwritten() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"swap", "iscsi://127.0.0.1:1/iqn.2026-11.io.ostia:x/0"},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("give -w to agree"), err::toString);
    }
}
