package io.ostia.lab;

import java.util.Objects;

/**
 * The outcome of one in-guest test, as the guest's JVM writes it to the shared results file and
 * the host reads it back: one line each, fields separated by tabs, with tabs, newlines and
 * backslashes escaped so that a multi-line failure stays on its line.
 *
 * @param className the test's class
 * @param testName  its display name, for example {@code loginAndFileSystem()}
 * @param status    how it ended
 * @param detail    the failure (message and stack trace) or the skip reason; empty when it passed
 */
record GuestTestResult(String className, String testName, Status status, String detail) {

    enum Status { PASSED, FAILED, SKIPPED }

    GuestTestResult {
        Objects.requireNonNull(className, "className");
        Objects.requireNonNull(testName, "testName");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(detail, "detail");
    }

    /** The name of the host-side test that stands for this one. */
    String displayName() {
        return className.substring(className.lastIndexOf('.') + 1) + "." + testName;
    }

    String toLine() {
        return String.join("\t", status.name(), escape(className), escape(testName), escape(detail));
    }

    static GuestTestResult parse(String line) {
        String[] fields = line.split("\t", -1);
        if (fields.length != 4) {
            throw new IllegalArgumentException("not a result line (4 tab-separated fields expected): " + line);
        }
        Status status;
        try {
            status = Status.valueOf(fields[0]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown status \"" + fields[0] + "\" in result line: " + line, e);
        }
        return new GuestTestResult(unescape(fields[1]), unescape(fields[2]), status, unescape(fields[3]));
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
    }

    private static String unescape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                out.append(c);
                continue;
            }
            char next = s.charAt(++i);
            out.append(switch (next) {
                case 't' -> '\t';
                case 'n' -> '\n';
                case 'r' -> '\r';
                default -> next;
            });
        }
        return out.toString();
    }
}
