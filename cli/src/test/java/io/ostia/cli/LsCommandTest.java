package io.ostia.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ostia.api.ChapCredentials;
import io.ostia.target.IscsiTarget;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code ostia ls -s} against Ostia's embedded target with one open and one CHAP-protected target. */
class LsCommandTest {
    private static final String SECURE = "iqn.2026-11.io.ostia.test:a-secure";
    private static final String OPEN = "iqn.2026-11.io.ostia.test:b-open";

    @Test
    void listsEveryTargetAndSaysWhyALunListIsMissing() throws Exception {
        try (IscsiTarget target = IscsiTarget.builder().portal("127.0.0.1", 0)
                .target(SECURE, t -> t.ramLun(1 << 20).chap(ChapCredentials.oneWay("user", "secret-12345")))
                .target(OPEN, t -> t.ramLun(2 << 20)).build().start()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = Main.run(new String[] {"ls", "-s", "iscsi://127.0.0.1:" + target.port()},
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
            String listed = out.toString(StandardCharsets.UTF_8);
            String errors = err.toString(StandardCharsets.UTF_8);
            assertEquals(1, status, "a target whose LUNs could not be shown makes the exit status 1");
            assertTrue(listed.contains("Target:" + SECURE), listed);
            assertTrue(listed.contains("Target:" + OPEN), listed);
            assertTrue(listed.contains("Lun:0 Type:DIRECT_ACCESS (Size:2M)"), listed);
            assertTrue(errors.contains("LUNs of " + SECURE + " not shown: "), errors);
            assertTrue(errors.contains("authentication"), errors);
            assertTrue(errors.contains(" at 127.0.0.1:" + target.port()), errors);
            assertFalse(errors.contains("/127.0.0.1"), "addresses are written as the user wrote them: " + errors);
        }
    }
}
