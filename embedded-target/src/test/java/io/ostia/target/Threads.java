package io.ostia.target;

import java.util.List;

/** Live threads by name prefix, for leak checks. */
final class Threads {

    private Threads() {
    }

    static List<String> named(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.startsWith(prefix))
                .sorted()
                .toList();
    }
}
