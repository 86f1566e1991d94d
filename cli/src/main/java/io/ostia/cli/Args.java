package io.ostia.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options in libiscsi's style: short flags ({@code -r}), short options with a
 * value ({@code -m 32} or {@code -m32}), long forms ({@code --random}, {@code --depth=32}) and
 * one or more positional arguments.
 */
final class Args {
    private final Map<String, String> values = new HashMap<>();
    private final List<String> positional = new ArrayList<>();

    /** Thrown for a command line that does not fit; the message is for the user. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    /**
     * @param flags       option names that take no value (short and long names)
     * @param withValue   option names that take a value
     * @param aliases     long name to short name
     */
    static Args parse(String[] argv, int from, Set<String> flags, Set<String> withValue, Map<String, String> aliases)
            throws UsageException {
        Args args = new Args();
        for (int i = from; i < argv.length; i++) {
            String a = argv[i];
            if (a.startsWith("--") && a.length() > 2) {
                String name = a.substring(2);
                String value = null;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                String key = aliases.getOrDefault(name, name);
                if (flags.contains(key)) {
                    if (value != null) {
                        throw new UsageException("option --" + name + " takes no value");
                    }
                    args.values.put(key, "true");
                } else if (withValue.contains(key)) {
                    if (value == null) {
                        if (++i >= argv.length) {
                            throw new UsageException("option --" + name + " needs a value");
                        }
                        value = argv[i];
                    }
                    args.values.put(key, value);
                } else {
                    throw new UsageException("unknown option --" + name);
                }
            } else if (a.startsWith("-") && a.length() > 1) {
                String key = a.substring(1, 2);
                if (flags.contains(key)) {
                    args.values.put(key, "true");
                    for (char c : a.substring(2).toCharArray()) {
                        if (!flags.contains(String.valueOf(c))) {
                            throw new UsageException("unknown option -" + c + " in " + a);
                        }
                        args.values.put(String.valueOf(c), "true");
                    }
                } else if (withValue.contains(key)) {
                    String value = a.length() > 2 ? a.substring(2) : null;
                    if (value == null) {
                        if (++i >= argv.length) {
                            throw new UsageException("option -" + key + " needs a value");
                        }
                        value = argv[i];
                    }
                    args.values.put(key, value);
                } else {
                    throw new UsageException("unknown option " + a);
                }
            } else {
                args.positional.add(a);
            }
        }
        return args;
    }

    boolean flag(String name) {
        return values.containsKey(name);
    }

    String value(String name, String otherwise) {
        return values.getOrDefault(name, otherwise);
    }

    /** A decimal or {@code 0x} hexadecimal number within {@code min..max}. */
    int intValue(String name, int otherwise, int min, int max) throws UsageException {
        String v = values.get(name);
        if (v == null) {
            return otherwise;
        }
        try {
            boolean hex = v.startsWith("0x") || v.startsWith("0X");
            int n = hex ? Integer.parseInt(v.substring(2), 16) : Integer.parseInt(v);
            if (n < min || n > max) {
                throw new UsageException("option -" + name + " " + n + " is outside " + min + ".." + max);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("option -" + name + " needs a number, got '" + v + "'");
        }
    }

    /** The positional argument if there is one; a usage error if there are more. */
    java.util.Optional<String> optional(String what) throws UsageException {
        if (positional.size() > 1) {
            throw new UsageException("expected at most one " + what + ", got " + positional);
        }
        return positional.stream().findFirst();
    }

    /** The single positional argument, or a usage error naming what is missing or extra. */
    String single(String what) throws UsageException {
        if (positional.size() != 1) {
            throw new UsageException(positional.isEmpty() ? "missing " + what : "expected one " + what + ", got " + positional);
        }
        return positional.getFirst();
    }
}
