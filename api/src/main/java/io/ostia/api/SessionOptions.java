package io.ostia.api;

import io.ostia.api.auth.ChapAlgorithm;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Everything a login needs: where, who, how, and how long to wait. Immutable; build with
 * {@link #builder()} or {@link #fromUrl(IscsiUrl)}.
 *
 * <p>Defaults favour throughput on a healthy network: CRC32C digests are not offered, immediate
 * data on, InitialR2T off, 256 KiB data segments, 16 MiB bursts.
 */
public final class SessionOptions {

    /** An IQN for this host when the caller names none (RFC 3720 3.2.6.3.1 form). */
    public static final String DEFAULT_INITIATOR_PREFIX = "iqn.2026-11.io.ostia:initiator";

    private final String host;
    private final int port;
    private final Optional<String> targetName;
    private final String initiatorName;
    private final Optional<ChapCredentials> chap;
    private final List<ChapAlgorithm> chapAlgorithms;
    private final List<String> transports;
    private final DigestPolicy headerDigest;
    private final DigestPolicy dataDigest;
    private final int maxRecvDataSegmentLength;
    private final int maxBurstLength;
    private final int firstBurstLength;
    private final boolean immediateData;
    private final boolean initialR2T;
    private final int maxOutstandingR2T;
    private final int queueDepth;
    private final Duration loginTimeout;
    private final Duration commandTimeout;
    private final Duration taskManagementTimeout;
    private final Duration nopInterval;
    private final Duration nopTimeout;
    private final Duration replacementTimeout;
    private final FailbackPolicy failback;
    private final Set<String> explicit;

    private SessionOptions(Builder b) {
        this.host = requireText("target host", b.host);
        this.port = b.port;
        this.targetName = b.targetName;
        this.initiatorName = requireText("initiator name", b.initiatorName);
        this.chap = b.chap;
        this.chapAlgorithms = List.copyOf(b.chapAlgorithms);
        if (chapAlgorithms.isEmpty()) {
            throw new IllegalArgumentException("the CHAP algorithm list is empty");
        }
        this.transports = List.copyOf(b.transports);
        this.headerDigest = b.headerDigest;
        this.dataDigest = b.dataDigest;
        this.maxRecvDataSegmentLength = checkRange("MaxRecvDataSegmentLength", b.maxRecvDataSegmentLength, 512, 16_777_215);
        this.maxBurstLength = checkRange("MaxBurstLength", b.maxBurstLength, 512, 16_777_215);
        this.firstBurstLength = checkRange("FirstBurstLength", b.firstBurstLength, 512, 16_777_215);
        if (firstBurstLength > maxBurstLength) {
            throw new IllegalArgumentException("FirstBurstLength " + firstBurstLength + " exceeds MaxBurstLength " + maxBurstLength);
        }
        this.immediateData = b.immediateData;
        this.initialR2T = b.initialR2T;
        this.maxOutstandingR2T = checkRange("MaxOutstandingR2T", b.maxOutstandingR2T, 1, 65535);
        this.queueDepth = checkRange("queue depth", b.queueDepth, 1, 4096);
        this.loginTimeout = positive("login timeout", b.loginTimeout);
        this.commandTimeout = positive("command timeout", b.commandTimeout);
        this.taskManagementTimeout = positive("task management timeout", b.taskManagementTimeout);
        this.nopInterval = b.nopInterval;
        this.nopTimeout = positive("NOP timeout", b.nopTimeout);
        this.replacementTimeout = b.replacementTimeout;
        this.failback = Objects.requireNonNull(b.failback, "failback policy");
        this.explicit = Set.copyOf(b.explicit);
        if (transports.isEmpty()) {
            throw new IllegalArgumentException("the transport preference list is empty");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options for the portal, target and CHAP credentials an iSCSI URL names. */
    public static Builder fromUrl(IscsiUrl url) {
        Builder b = builder().portal(url.host(), url.port());
        url.targetName().ifPresent(b::targetName);
        url.chap().ifPresent(b::chap);
        return b;
    }

    public String host() { return host; }
    public int port() { return port; }
    public Optional<String> targetName() { return targetName; }
    public String initiatorName() { return initiatorName; }
    public Optional<ChapCredentials> chap() { return chap; }
    /** CHAP_A values to offer, in order of preference. */
    public List<ChapAlgorithm> chapAlgorithms() { return chapAlgorithms; }
    /** Transport names in order of preference, such as {@code [iser, tcp]}. */
    public List<String> transports() { return transports; }
    public DigestPolicy headerDigest() { return headerDigest; }
    public DigestPolicy dataDigest() { return dataDigest; }
    public int maxRecvDataSegmentLength() { return maxRecvDataSegmentLength; }
    public int maxBurstLength() { return maxBurstLength; }
    public int firstBurstLength() { return firstBurstLength; }
    public boolean immediateData() { return immediateData; }
    public boolean initialR2T() { return initialR2T; }
    public int maxOutstandingR2T() { return maxOutstandingR2T; }
    /** Most commands this session keeps in flight, whatever window the target opens. */
    public int queueDepth() { return queueDepth; }
    public Duration loginTimeout() { return loginTimeout; }
    /** After this long without a response a command is aborted (ABORT TASK, then LUN RESET). */
    public Duration commandTimeout() { return commandTimeout; }
    public Duration taskManagementTimeout() { return taskManagementTimeout; }
    /** Idle time after which a NOP-Out ping checks the connection; zero disables pings. */
    public Duration nopInterval() { return nopInterval; }
    public Duration nopTimeout() { return nopTimeout; }
    /** How long a failed connection may take to be replaced before queued commands fail; zero fails them at once. */
    public Duration replacementTimeout() { return replacementTimeout; }
    /** Whether a session moves to a more preferred transport of {@link #transports()} when one appears. */
    public FailbackPolicy failback() { return failback; }

    /**
     * The options a caller set, named as the builder's methods ({@code "initiatorName"},
     * {@code "transports"}, {@code "replacementTimeout"}...); every other one holds its default,
     * which an initiator's own settings replace at login.
     */
    public Set<String> explicitlySet() { return explicit; }

    /** A builder holding every value of these options, to derive other options from them. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.host = host;
        b.port = port;
        b.targetName = targetName;
        b.initiatorName = initiatorName;
        b.chap = chap;
        b.chapAlgorithms = chapAlgorithms;
        b.transports = transports;
        b.headerDigest = headerDigest;
        b.dataDigest = dataDigest;
        b.maxRecvDataSegmentLength = maxRecvDataSegmentLength;
        b.maxBurstLength = maxBurstLength;
        b.firstBurstLength = firstBurstLength;
        b.immediateData = immediateData;
        b.initialR2T = initialR2T;
        b.maxOutstandingR2T = maxOutstandingR2T;
        b.queueDepth = queueDepth;
        b.loginTimeout = loginTimeout;
        b.commandTimeout = commandTimeout;
        b.taskManagementTimeout = taskManagementTimeout;
        b.nopInterval = nopInterval;
        b.nopTimeout = nopTimeout;
        b.replacementTimeout = replacementTimeout;
        b.failback = failback;
        b.explicit.addAll(explicit);
        return b;
    }

    @Override
    public String toString() {
        return "SessionOptions[" + host + ":" + port + targetName.map(t -> "/" + t).orElse("") + " as " + initiatorName
                + chap.map(c -> " with CHAP user " + c.user() + (c.isMutual() ? " (mutual)" : "")).orElse("")
                + " over " + transports + "]";
    }

    private static String requireText(String what, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + " is missing");
        }
        return value;
    }

    private static int checkRange(String what, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(what + " " + value + " is outside " + min + ".." + max);
        }
        return value;
    }

    private static Duration positive(String what, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, got " + d);
        }
        return d;
    }

    /** Mutable builder; {@link #build()} validates every value and names the first bad one. */
    public static final class Builder {
        private String host;
        private int port = IscsiUrl.DEFAULT_PORT;
        private Optional<String> targetName = Optional.empty();
        private String initiatorName = DEFAULT_INITIATOR_PREFIX;
        private Optional<ChapCredentials> chap = Optional.empty();
        // MD5 alone by default, as open-iscsi does: tgt reads CHAP_A=7 as SHA-1 where RFC 7143's
        // registry and other targets read SHA-256, so stronger algorithms are opt-in.
        private List<ChapAlgorithm> chapAlgorithms = List.of(ChapAlgorithm.MD5);
        private List<String> transports = List.of("tcp");
        private DigestPolicy headerDigest = DigestPolicy.NONE;
        private DigestPolicy dataDigest = DigestPolicy.NONE;
        private int maxRecvDataSegmentLength = 262_144;
        private int maxBurstLength = 16_776_192;
        private int firstBurstLength = 262_144;
        private boolean immediateData = true;
        private boolean initialR2T = false;
        private int maxOutstandingR2T = 1;
        private int queueDepth = 128;
        private Duration loginTimeout = Duration.ofSeconds(15);
        private Duration commandTimeout = Duration.ofSeconds(30);
        private Duration taskManagementTimeout = Duration.ofSeconds(10);
        private Duration nopInterval = Duration.ofSeconds(5);
        private Duration nopTimeout = Duration.ofSeconds(5);
        private Duration replacementTimeout = Duration.ofSeconds(120);
        private FailbackPolicy failback = FailbackPolicy.NONE;
        /** The options set through this builder's methods, by method name. */
        private final Set<String> explicit = new HashSet<>();

        private Builder() {
        }

        public Builder portal(String host, int port) {
            explicit.add("portal");
            this.host = host;
            if (port <= 0 || port > 65535) {
                throw new IllegalArgumentException("portal port " + port + " is outside 1..65535");
            }
            this.port = port;
            return this;
        }

        public Builder targetName(String targetName) {
            explicit.add("targetName");
            this.targetName = Optional.of(requireText("target name", targetName));
            return this;
        }

        public Builder initiatorName(String initiatorName) {
            explicit.add("initiatorName");
            this.initiatorName = initiatorName;
            return this;
        }

        public Builder chap(ChapCredentials chap) {
            explicit.add("chap");
            this.chap = Optional.of(Objects.requireNonNull(chap, "chap"));
            return this;
        }

        /** CHAP algorithms to offer, most preferred first (default MD5 only). */
        public Builder chapAlgorithms(List<ChapAlgorithm> preference) {
            explicit.add("chapAlgorithms");
            this.chapAlgorithms = List.copyOf(preference);
            return this;
        }

        public Builder transports(List<String> preference) {
            explicit.add("transports");
            this.transports = List.copyOf(preference);
            return this;
        }

        public Builder transports(String... preference) {
            return transports(List.of(preference));
        }

        public Builder headerDigest(DigestPolicy policy) {
            explicit.add("headerDigest");
            this.headerDigest = Objects.requireNonNull(policy);
            return this;
        }

        public Builder dataDigest(DigestPolicy policy) {
            explicit.add("dataDigest");
            this.dataDigest = Objects.requireNonNull(policy);
            return this;
        }

        public Builder maxRecvDataSegmentLength(int bytes) {
            explicit.add("maxRecvDataSegmentLength");
            this.maxRecvDataSegmentLength = bytes;
            return this;
        }

        public Builder maxBurstLength(int bytes) {
            explicit.add("maxBurstLength");
            this.maxBurstLength = bytes;
            return this;
        }

        public Builder firstBurstLength(int bytes) {
            explicit.add("firstBurstLength");
            this.firstBurstLength = bytes;
            return this;
        }

        public Builder immediateData(boolean on) {
            explicit.add("immediateData");
            this.immediateData = on;
            return this;
        }

        public Builder initialR2T(boolean on) {
            explicit.add("initialR2T");
            this.initialR2T = on;
            return this;
        }

        public Builder maxOutstandingR2T(int count) {
            explicit.add("maxOutstandingR2T");
            this.maxOutstandingR2T = count;
            return this;
        }

        public Builder queueDepth(int depth) {
            explicit.add("queueDepth");
            this.queueDepth = depth;
            return this;
        }

        public Builder loginTimeout(Duration d) {
            explicit.add("loginTimeout");
            this.loginTimeout = d;
            return this;
        }

        public Builder commandTimeout(Duration d) {
            explicit.add("commandTimeout");
            this.commandTimeout = d;
            return this;
        }

        public Builder taskManagementTimeout(Duration d) {
            explicit.add("taskManagementTimeout");
            this.taskManagementTimeout = d;
            return this;
        }

        public Builder nopInterval(Duration d) {
            explicit.add("nopInterval");
            if (d == null || d.isNegative()) {
                throw new IllegalArgumentException("NOP interval must be zero or positive, got " + d);
            }
            this.nopInterval = d;
            return this;
        }

        public Builder nopTimeout(Duration d) {
            explicit.add("nopTimeout");
            this.nopTimeout = d;
            return this;
        }

        public Builder replacementTimeout(Duration d) {
            explicit.add("replacementTimeout");
            if (d == null || d.isNegative()) {
                throw new IllegalArgumentException("replacement timeout must be zero or positive, got " + d);
            }
            this.replacementTimeout = d;
            return this;
        }

        public Builder failback(FailbackPolicy policy) {
            explicit.add("failback");
            this.failback = Objects.requireNonNull(policy, "failback policy");
            return this;
        }

        public SessionOptions build() {
            return new SessionOptions(this);
        }
    }
}
