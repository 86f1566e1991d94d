package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.RdmaAvailability;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM started without --enable-native-access gets a plain "unavailable" naming the flag,
 * not an error from linking downcalls.
 */
class NativeAccessDeniedTest {
    /** Run in the child JVM: prints the availability cause. */
    public static void main(String[] args) {
        Throwable cause = RdmaAvailability.unavailabilityCause();
        System.out.println(cause == null ? "available" : "unavailable: " + cause.getMessage());
    }

    private static String runChild(String... jvmArgs) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(java));
        command.addAll(List.of(jvmArgs));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), NativeAccessDeniedTest.class.getName()));
        return CToolchain.run(command);
    }

    @Test
    void deniedNativeAccessIsReportedWithTheFlagToUse() throws Exception {
        String output = runChild("--illegal-native-access=deny");
        assertTrue(output.contains("unavailable: native access is not enabled for the class path; "
                + "start the JVM with --enable-native-access=ALL-UNNAMED"), output);
    }

    @Test
    void enabledNativeAccessGetsAsFarAsTheDevices() throws Exception {
        String output = runChild("--enable-native-access=ALL-UNNAMED", "--illegal-native-access=deny");
        assertTrue(output.startsWith("available") || output.contains("unavailable: no RDMA device")
                || output.contains("is missing"), output);
    }
}
