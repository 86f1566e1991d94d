package io.ostia.initiator;

import io.ostia.api.FailbackPolicy;
import io.ostia.api.SessionOptions;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An initiator's own settings: the defaults of the sessions it logs in (initiator name, transport
 * preference, login, NOP and replacement timeouts, failback policy). In OSGi they come
 * from Configuration Admin (PID {@code io.ostia.initiator}); in plain Java from
 * {@link Initiators#create(InitiatorSettings)}. A value left unset keeps {@link SessionOptions}'
 * own default, so those defaults live in one place.
 *
 * <p>They reach every session: {@code Initiator.options()}' builder starts from them, and a
 * login fills them in for whatever its options left at the default ({@link #fillIn}). A session keeps the values it logged in with, and a change applies to sessions logged in
 * afterwards (the failback policy too: it is one of a session's options).
 */
public final class InitiatorSettings {

    private final Optional<String> initiatorName;
    private final Optional<List<String>> transports;
    private final Optional<Duration> loginTimeout;
    private final Optional<Duration> nopInterval;
    private final Optional<Duration> nopTimeout;
    private final Optional<Duration> replacementTimeout;
    private final Optional<FailbackPolicy> failback;

    private InitiatorSettings(Builder b) {
        this.initiatorName = b.initiatorName;
        this.transports = b.transports;
        this.loginTimeout = b.loginTimeout;
        this.nopInterval = b.nopInterval;
        this.nopTimeout = b.nopTimeout;
        this.replacementTimeout = b.replacementTimeout;
        this.failback = b.failback;
        // Validate now, where the bad value is named, rather than at the first login.
        applyTo(SessionOptions.builder().portal("settings.invalid", 3260)).build();
    }

    /** Nothing set: SessionOptions' defaults throughout. */
    public static InitiatorSettings defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code builder} with every value these settings set; what they leave unset stays as it is. */
    public SessionOptions.Builder applyTo(SessionOptions.Builder builder) {
        initiatorName.ifPresent(builder::initiatorName);
        transports.ifPresent(builder::transports);
        loginTimeout.ifPresent(builder::loginTimeout);
        nopInterval.ifPresent(builder::nopInterval);
        nopTimeout.ifPresent(builder::nopTimeout);
        replacementTimeout.ifPresent(builder::replacementTimeout);
        failback.ifPresent(builder::failback);
        return builder;
    }

    /**
     * {@code options} with these settings in place of every value its caller left at
     * SessionOptions' default: what the caller set wins. The initiator applies this to each
     * login, so options built without {@code Initiator.options()} get the settings too.
     */
    public SessionOptions fillIn(SessionOptions options) {
        Set<String> set = options.explicitlySet();
        SessionOptions.Builder b = options.toBuilder();
        initiatorName.filter(v -> !set.contains("initiatorName")).ifPresent(b::initiatorName);
        transports.filter(v -> !set.contains("transports")).ifPresent(b::transports);
        loginTimeout.filter(v -> !set.contains("loginTimeout")).ifPresent(b::loginTimeout);
        nopInterval.filter(v -> !set.contains("nopInterval")).ifPresent(b::nopInterval);
        nopTimeout.filter(v -> !set.contains("nopTimeout")).ifPresent(b::nopTimeout);
        replacementTimeout.filter(v -> !set.contains("replacementTimeout")).ifPresent(b::replacementTimeout);
        failback.filter(v -> !set.contains("failback")).ifPresent(b::failback);
        return b.build();
    }

    public Optional<String> initiatorName() { return initiatorName; }
    public Optional<List<String>> transports() { return transports; }
    public Optional<Duration> loginTimeout() { return loginTimeout; }
    public Optional<Duration> nopInterval() { return nopInterval; }
    public Optional<Duration> nopTimeout() { return nopTimeout; }
    public Optional<Duration> replacementTimeout() { return replacementTimeout; }
    public Optional<FailbackPolicy> failback() { return failback; }

    @Override
    public boolean equals(Object o) {
        return o instanceof InitiatorSettings s && initiatorName.equals(s.initiatorName) && transports.equals(s.transports)
                && loginTimeout.equals(s.loginTimeout) && nopInterval.equals(s.nopInterval)
                && nopTimeout.equals(s.nopTimeout) && replacementTimeout.equals(s.replacementTimeout)
                && failback == s.failback;
    }

    @Override
    public int hashCode() {
        return Objects.hash(initiatorName, transports, loginTimeout, nopInterval, nopTimeout, replacementTimeout, failback);
    }

    @Override
    public String toString() {
        return "InitiatorSettings[name=" + initiatorName.orElse("(default)") + ", transports="
                + transports.map(String::valueOf).orElse("(default)") + ", login=" + show(loginTimeout) + ", nopInterval="
                + show(nopInterval) + ", nopTimeout=" + show(nopTimeout) + ", replacement=" + show(replacementTimeout)
                + ", failback=" + failback.map(String::valueOf).orElse("(default)") + "]";
    }

    private static String show(Optional<Duration> d) {
        return d.map(v -> v.toMillis() + " ms").orElse("(default)");
    }

    /** Mutable builder; {@link #build()} validates through SessionOptions and names the first bad value. */
    public static final class Builder {
        private Optional<String> initiatorName = Optional.empty();
        private Optional<List<String>> transports = Optional.empty();
        private Optional<Duration> loginTimeout = Optional.empty();
        private Optional<Duration> nopInterval = Optional.empty();
        private Optional<Duration> nopTimeout = Optional.empty();
        private Optional<Duration> replacementTimeout = Optional.empty();
        private Optional<FailbackPolicy> failback = Optional.empty();

        private Builder() {
        }

        public Builder initiatorName(String name) {
            this.initiatorName = Optional.of(Objects.requireNonNull(name, "initiator name"));
            return this;
        }

        /** Transport names, most preferred first. */
        public Builder transports(List<String> preference) {
            this.transports = Optional.of(List.copyOf(preference));
            return this;
        }

        /**
         * Transport names from a comma-separated list such as {@code "iser,tcp"}, most preferred
         * first; blanks around names are ignored, empty names are an error.
         */
        public Builder transports(String commaSeparated) {
            Objects.requireNonNull(commaSeparated, "transport preference");
            List<String> names = List.of(commaSeparated.split(",", -1)).stream().map(String::strip).toList();
            if (names.stream().anyMatch(String::isEmpty)) {
                throw new IllegalArgumentException("transport preference \"" + commaSeparated
                        + "\" has an empty name; write names separated by commas, such as \"iser,tcp\"");
            }
            return transports(names);
        }

        public Builder loginTimeout(Duration d) {
            this.loginTimeout = Optional.of(Objects.requireNonNull(d, "login timeout"));
            return this;
        }

        /** Idle time before a keepalive NOP-Out; zero turns keepalives off. */
        public Builder nopInterval(Duration d) {
            this.nopInterval = Optional.of(Objects.requireNonNull(d, "NOP interval"));
            return this;
        }

        public Builder nopTimeout(Duration d) {
            this.nopTimeout = Optional.of(Objects.requireNonNull(d, "NOP timeout"));
            return this;
        }

        public Builder replacementTimeout(Duration d) {
            this.replacementTimeout = Optional.of(Objects.requireNonNull(d, "replacement timeout"));
            return this;
        }

        public Builder failback(FailbackPolicy policy) {
            this.failback = Optional.of(Objects.requireNonNull(policy, "failback policy"));
            return this;
        }

        public InitiatorSettings build() {
            return new InitiatorSettings(this);
        }
    }
}
