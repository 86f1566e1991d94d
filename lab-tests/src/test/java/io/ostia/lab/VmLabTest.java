package io.ostia.lab;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Every in-guest test, reported here as a test of its own: one guest boot and one JVM inside run
 * every class named {@code *InGuest} (a new suite is one more such class), and each of their tests
 * becomes a dynamic test that passes, fails with the in-guest failure, or is skipped with the
 * in-guest reason.
 */
class VmLabTest {

    @TestFactory
    List<DynamicTest> inGuestTests() throws IOException {
        VmLab lab = new VmLab();
        String why = lab.unavailable().orElse(null);
        assumeTrue(why == null, () -> "VM lab skipped: " + why);

        long started = System.nanoTime();
        VmLab.Run run = lab.runInGuestTests();
        long seconds = (System.nanoTime() - started) / 1_000_000_000L;
        System.out.printf("VM lab: %d in-guest results in %d s (guest console in %s)%n",
                run.results().size(), seconds, run.folder().resolve("console.log"));

        List<DynamicTest> tests = new ArrayList<>();
        tests.add(dynamicTest("guest ran every suite and powered off", () -> {
            assertEquals(0, run.exitCode(), () -> "the guest run failed (124: a time limit ended it); its console ended:\n"
                    + run.outputTail());
            assertFalse(run.results().isEmpty(), () -> "the guest reported no test; its console ended:\n" + run.outputTail());
        }));
        for (GuestTestResult result : run.results()) {
            tests.add(dynamicTest(result.displayName(), () -> {
                switch (result.status()) {
                    case PASSED -> { }
                    case SKIPPED -> throw new TestAbortedException("skipped in the guest: " + result.detail());
                    case FAILED -> fail("failed in the guest:\n" + result.detail());
                }
            }));
        }
        return tests;
    }
}
