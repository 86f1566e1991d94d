package io.ostia.distribution.demo;

import java.time.Duration;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;

/**
 * Runs the {@link SwapDemo} on its own thread when the launcher asks for it (framework property
 * {@code ostia.demo=run}), puts its exit code in the system property {@code ostia.demo.exit}
 * and stops the framework; otherwise does nothing.
 */
public final class DemoActivator implements BundleActivator {

    private static final Duration STOP_BOUND = Duration.ofSeconds(30);

    private Thread demo;

    @Override
    public void start(BundleContext context) {
        if (!"run".equals(context.getProperty("ostia.demo"))) {
            return;
        }
        demo = Thread.ofPlatform().name("ostia-demo").start(() -> {
            int exit;
            try {
                exit = new SwapDemo(context, System.out).run() ? 0 : 1;
            } catch (InterruptedException e) {
                System.out.println("demo interrupted");
                exit = 1;
            } catch (Exception e) {
                System.out.println("demo failed: " + e);
                e.printStackTrace(System.out);
                exit = 1;
            }
            System.setProperty("ostia.demo.exit", Integer.toString(exit));
            try {
                context.getBundle(0).stop(); // asynchronous: the framework stops on its own thread
            } catch (BundleException e) {
                System.out.println("cannot stop the framework: " + e.getMessage());
            }
        });
    }

    @Override
    public void stop(BundleContext context) throws InterruptedException {
        if (demo != null && demo.isAlive()) {
            demo.interrupt();
            if (!demo.join(STOP_BOUND)) {
                System.out.println("the demo thread did not end within " + STOP_BOUND.toSeconds() + " s of being interrupted");
            }
        }
    }
}
