package io.ostia.cli;

/** Byte sizes on the command line: {@code 4096}, {@code 64k}, {@code 256M}, {@code 1G}. */
final class Sizes {
    private Sizes() {
    }

    static long parse(String option, String text) throws Args.UsageException {
        if (text == null || text.isEmpty()) {
            throw new Args.UsageException("option " + option + " needs a size such as 256M");
        }
        char unit = Character.toLowerCase(text.charAt(text.length() - 1));
        int shift = switch (unit) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        String digits = shift == 0 ? text : text.substring(0, text.length() - 1);
        try {
            long value = Long.parseLong(digits);
            if (value <= 0 || value > (Long.MAX_VALUE >> shift)) {
                throw new Args.UsageException("option " + option + " size " + text + " is out of range");
            }
            return value << shift;
        } catch (NumberFormatException e) {
            throw new Args.UsageException("option " + option + " needs a size such as 256M, got '" + text + "'");
        }
    }
}
