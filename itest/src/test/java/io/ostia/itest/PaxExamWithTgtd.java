package io.ostia.itest;

import io.ostia.testing.TgtdServer;
import java.lang.reflect.Method;
import java.util.Optional;
import org.junit.AssumptionViolatedException;
import org.junit.Test;
import org.junit.runner.Description;
import org.junit.runner.Runner;
import org.junit.runner.notification.Failure;
import org.junit.runner.notification.RunNotifier;
import org.junit.runners.model.InitializationError;
import org.ops4j.pax.exam.junit.PaxExam;

/**
 * {@link PaxExam}, unless tgtd cannot run here: then every test of the class is reported as
 * skipped with the reason, and no container starts. The check has to be made in the driver:
 * Pax Exam runs {@code @BeforeClass} inside the container, where a failed assumption is
 * reported to the driver as a pass.
 */
public final class PaxExamWithTgtd extends Runner {
    private final Class<?> testClass;
    private final Optional<String> unavailable;
    private final Runner paxExam;

    public PaxExamWithTgtd(Class<?> testClass) throws InitializationError {
        this.testClass = testClass;
        this.unavailable = TgtdServer.unavailability();
        this.paxExam = unavailable.isEmpty() ? new PaxExam(testClass) : null;
    }

    @Override
    public Description getDescription() {
        if (paxExam != null) {
            return paxExam.getDescription();
        }
        Description suite = Description.createSuiteDescription(testClass);
        for (Method m : testClass.getMethods()) {
            if (m.isAnnotationPresent(Test.class)) {
                suite.addChild(Description.createTestDescription(testClass, m.getName()));
            }
        }
        return suite;
    }

    @Override
    public void run(RunNotifier notifier) {
        if (paxExam != null) {
            paxExam.run(notifier);
            return;
        }
        String why = "these in-container tests need Linux tgtd (Debian package tgt), and it cannot run here: "
                + unavailable.orElseThrow();
        for (Description test : getDescription().getChildren()) {
            notifier.fireTestStarted(test);
            notifier.fireTestAssumptionFailed(new Failure(test, new AssumptionViolatedException(why)));
            notifier.fireTestFinished(test);
        }
    }
}
