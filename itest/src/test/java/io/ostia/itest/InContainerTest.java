package io.ostia.itest;

import static org.ops4j.pax.exam.CoreOptions.bootDelegationPackage;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.composite;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;

/**
 * The base of the in-container tests: what every test container holds. That is Declarative
 * Services (Felix SCR and the DS API bundles it does not embed) and the bundles this build made,
 * installed from the files failsafe's pre-integration-test copied, never from a Maven repository.
 */
public abstract class InContainerTest {

    /** Bundle files in install order: DS API and SCR first, then Ostia's. */
    private static final String[] BUNDLES = {
            "org.osgi.util.function", "org.osgi.util.promise", "org.osgi.service.component", "org.apache.felix.scr",
            "ostia-api", "ostia-testing", "ostia-transport-lifecycle", "ostia-transport-tcp", "ostia-initiator"};

    /** Bundle files a test class needs beyond the common ones, installed after them in this order. */
    protected String[] moreBundles() {
        return new String[0];
    }

    @Configuration
    public Option[] config() {
        String folder = System.getProperty("ostia.itest.bundles");
        if (folder == null) {
            throw new IllegalStateException("system property ostia.itest.bundles is not set: run the in-container tests"
                    + " with failsafe (./mvnw verify), which copies the bundles there first");
        }
        String[] names = java.util.stream.Stream.concat(java.util.Arrays.stream(BUNDLES),
                java.util.Arrays.stream(moreBundles())).toArray(String[]::new);
        Option[] bundles = new Option[names.length];
        for (int i = 0; i < names.length; i++) {
            Path file = Path.of(folder, names[i] + ".jar");
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException(file + " is missing: pre-integration-test copies it (./mvnw verify)");
            }
            bundles[i] = bundle(file.toUri().toString());
        }
        return new Option[] {
                // Pax Exam's own bundles come from mvn: URLs; keep them in the build's local repository.
                systemProperty("org.ops4j.pax.url.mvn.localRepository")
                        .value(System.getProperty("org.ops4j.pax.url.mvn.localRepository", "")),
                cleanCaches(),
                // As the distribution's Launcher: a JFR recording's instrumented events call jdk.jfr.internal.event.
                bootDelegationPackage("jdk.jfr.internal.event"),
                junitBundles(),
                composite(bundles)};
    }
}
