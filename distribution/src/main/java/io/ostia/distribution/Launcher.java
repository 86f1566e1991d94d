package io.ostia.distribution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * Starts Apache Felix with every bundle of the distribution's {@code bundle/} folder, outside
 * the framework (the framework is on the class path, Ostia only inside it). With no argument it
 * runs the swap demo (the {@code io.ostia.distribution} bundle's activator) and exits with its
 * result; {@code run} adds Gogo's console ({@code shell/}) and keeps the container up until the
 * console's {@code exit} or the JVM is stopped.
 */
public final class Launcher {

    /** Framework property the demo bundle reads; the demo answers in the system property {@link #RESULT}. */
    public static final String DEMO = "ostia.demo";
    public static final String RESULT = "ostia.demo.exit";
    /** Framework property naming the distribution's folder, for the bundles it holds. */
    public static final String HOME = "ostia.home";
    private static final Duration DEMO_BOUND = Duration.ofMinutes(3);

    private Launcher() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length == 0 ? "demo" : args[0];
        if (args.length > 1 || !(mode.equals("demo") || mode.equals("run"))) {
            System.err.println("usage: ostia-felix [demo|run]\n  demo (the default): the swap demo, then exit 0 if no I/O failed\n"
                    + "  run: the container with Ostia's bundles and a Gogo console (ostia:sessions ...) until stopped");
            System.exit(2);
        }
        String homeProperty = System.getProperty(HOME);
        if (homeProperty == null) {
            throw new IllegalStateException("system property " + HOME + " is not set: start the distribution with bin/ostia-felix");
        }
        Path home = Path.of(homeProperty);
        Path cache = Files.createTempDirectory("ostia-felix-cache-");
        Map<String, String> properties = new HashMap<>();
        properties.put(Constants.FRAMEWORK_STORAGE, cache.toString());
        properties.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        properties.put(HOME, home.toString());
        // A JFR recording instruments the initiator's event classes to call jdk.jfr.internal.event,
        // which no bundle can import: the framework must hand it to the boot loader (architecture.md, JFR).
        properties.put(Constants.FRAMEWORK_BOOTDELEGATION, "jdk.jfr.internal.event");
        if (mode.equals("demo")) {
            properties.put(DEMO, "run");
        }
        Framework framework = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path (lib/org.apache.felix.framework.jar)"))
                .newFramework(properties);
        int exit;
        try {
            framework.init();
            startBundles(framework.getBundleContext(), home.resolve("bundle"));
            if (mode.equals("run")) {
                startBundles(framework.getBundleContext(), home.resolve("shell"));
            }
            framework.start();
            if (mode.equals("run")) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(framework), "ostia-felix-stop"));
                framework.waitForStop(0);
                exit = 0;
            } else {
                FrameworkEvent end = framework.waitForStop(DEMO_BOUND.toMillis());
                if (end.getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                    System.err.println("the demo did not end within " + DEMO_BOUND.toSeconds() + " s; stopping");
                    exit = 1;
                } else {
                    exit = Integer.parseInt(System.getProperty(RESULT, "1"));
                }
            }
        } finally {
            stop(framework);
            deleteTree(cache);
        }
        System.exit(exit);
    }

    /** Installs every jar of {@code folder}, then starts them (fragments are only installed). */
    private static void startBundles(BundleContext context, Path folder) throws IOException, BundleException {
        List<Bundle> installed = new ArrayList<>();
        try (Stream<Path> jars = Files.list(folder)) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
                installed.add(context.installBundle(jar.toUri().toString()));
            }
        }
        for (Bundle b : installed) {
            if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                b.start();
            }
        }
    }

    private static void stop(Framework framework) {
        try {
            if (framework.getState() == Bundle.ACTIVE || framework.getState() == Bundle.STARTING) {
                framework.stop();
            }
            framework.waitForStop(DEMO_BOUND.toMillis());
        } catch (BundleException e) {
            System.err.println("stopping the framework failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
