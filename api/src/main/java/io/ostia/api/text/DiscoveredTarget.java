package io.ostia.api.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One target of a SendTargets answer (RFC 7143 §13.3, Appendix C): its name, the portals it
 * is reachable at, and its alias if the target gave one.
 */
public record DiscoveredTarget(String name, List<TargetAddress> addresses, Optional<String> alias) {

    public DiscoveredTarget {
        Objects.requireNonNull(name, "name");
        addresses = List.copyOf(addresses);
        Objects.requireNonNull(alias, "alias");
    }

    /**
     * Groups a SendTargets answer: each TargetName starts a target, and the TargetAddress and
     * TargetAlias keys after it belong to it.
     *
     * @throws TextFormatException when an address or alias comes before any TargetName, or an
     *     address is malformed
     */
    public static List<DiscoveredTarget> fromSendTargets(List<KeyValue> answer) throws TextFormatException {
        List<DiscoveredTarget> targets = new ArrayList<>();
        String name = null;
        List<TargetAddress> addresses = new ArrayList<>();
        String alias = null;
        for (KeyValue pair : answer) {
            switch (pair.key()) {
                case Keys.TARGET_NAME -> {
                    if (name != null) {
                        targets.add(new DiscoveredTarget(name, addresses, Optional.ofNullable(alias)));
                    }
                    name = pair.value();
                    addresses = new ArrayList<>();
                    alias = null;
                }
                case Keys.TARGET_ADDRESS -> addresses.add(TargetAddress.parse(requireName(name, pair)));
                case Keys.TARGET_ALIAS -> alias = requireName(name, pair);
                default -> {
                    // RFC 7143 Appendix C allows no other keys here; ignoring keeps discovery working.
                }
            }
        }
        if (name != null) {
            targets.add(new DiscoveredTarget(name, addresses, Optional.ofNullable(alias)));
        }
        return targets;
    }

    private static String requireName(String name, KeyValue pair) throws TextFormatException {
        if (name == null) {
            throw new TextFormatException(pair.key(), pair + " comes before any TargetName in the SendTargets answer");
        }
        return pair.value();
    }
}
