package io.ostia.rdma.internal.ffm;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Restricted java.lang.foreign methods may be called only from NativeAccess (reviewed) and the
 * generated package, which lives apart in src/gen/java: a new call in the hand-written sources
 * (src/main/java) fails here and gets a review.
 */
class RestrictedCallsTest {
    private static final Path MAIN = Path.of("src/main/java");
    private static final Pattern RESTRICTED = Pattern.compile(
            "\\.(reinterpret|downcallHandle|upcallStub|libraryLookup|withTargetLayout)\\(|Linker\\.nativeLinker\\(\\)");

    @Test
    void onlyNativeAccessAndGeneratedCodeMakeRestrictedCalls() throws IOException {
        assertTrue(Files.isDirectory(MAIN), "run from the module directory: " + MAIN.toAbsolutePath());
        List<String> offenders;
        try (Stream<Path> files = Files.walk(MAIN)) {
            offenders = files.filter(f -> f.toString().endsWith(".java"))
                    .filter(f -> !f.endsWith(Path.of("io/ostia/rdma/internal/ffm/NativeAccess.java")))
                    .filter(RestrictedCallsTest::callsRestricted)
                    .map(Path::toString)
                    .toList();
        }
        assertEquals(List.of(), offenders, "restricted java.lang.foreign calls outside NativeAccess");
    }

    private static boolean callsRestricted(Path file) {
        try {
            return RESTRICTED.matcher(Files.readString(file)).find();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        }
    }
}
