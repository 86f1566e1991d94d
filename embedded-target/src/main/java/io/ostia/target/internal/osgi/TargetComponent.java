package io.ostia.target.internal.osgi;

import io.ostia.api.ChapCredentials;
import io.ostia.target.IscsiTarget;
import io.ostia.target.LunSpec;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;

/**
 * An iSCSI target configured through Configuration Admin (factory PID {@code io.ostia.target}):
 * one configuration, one running target with one LUN. Activation starts it; deactivation stops
 * it and frees its LUN, exactly undoing activation.
 */
@Component(configurationPid = TargetComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
@Designate(ocd = TargetComponent.Config.class, factory = true)
public final class TargetComponent {

    public static final String PID = "io.ostia.target";
    private static final System.Logger LOG = System.getLogger(TargetComponent.class.getName());

    @ObjectClassDefinition(name = "Ostia iSCSI target", description = "An embedded iSCSI target serving one LUN.")
    public @interface Config {
        @AttributeDefinition(name = "Portal address", description = "Address or host name to listen on.")
        String host() default "127.0.0.1";

        @AttributeDefinition(name = "Portal port", description = "TCP port; 0 picks a free one.", min = "0", max = "65535")
        int port() default 3260;

        @AttributeDefinition(name = "Target name", description = "The target's iSCSI name (iqn., eui. or naa.).")
        String targetName() default "iqn.2026-01.io.ostia:target";

        @AttributeDefinition(name = "Target alias", required = false)
        String alias() default "";

        @AttributeDefinition(name = "LUN size (MiB)", description = "Capacity of LUN 0; for a file, 0 keeps its size.",
                min = "0")
        long lunSizeMiB() default 64;

        @AttributeDefinition(name = "LUN file", description = "Backing file; empty for off-heap memory.", required = false)
        String lunFile() default "";

        @AttributeDefinition(name = "Block size", options = {
                @org.osgi.service.metatype.annotations.Option(label = "512", value = "512"),
                @org.osgi.service.metatype.annotations.Option(label = "4096", value = "4096")})
        int blockSize() default 512;

        @AttributeDefinition(name = "Read-only")
        boolean readOnly() default false;

        @AttributeDefinition(name = "Removable medium", description = "START STOP UNIT can eject and load it.")
        boolean removable() default false;

        @AttributeDefinition(name = "Physical block exponent",
                description = "2^n logical blocks per physical block, as READ CAPACITY (16) reports.", min = "0",
                max = "15")
        int physicalBlockExponent() default 0;

        @AttributeDefinition(name = "CHAP user", description = "Empty: no CHAP.", required = false)
        String chapUser() default "";

        @AttributeDefinition(name = "CHAP secret", type = AttributeType.PASSWORD, required = false)
        String chapSecret() default "";

        @AttributeDefinition(name = "Mutual CHAP target user", required = false)
        String chapTargetUser() default "";

        @AttributeDefinition(name = "Mutual CHAP target secret", type = AttributeType.PASSWORD, required = false)
        String chapTargetSecret() default "";

        @AttributeDefinition(name = "NOP-In interval (s)", description = "Idle time before a ping; 0 disables.", min = "0")
        int nopIntervalSeconds() default 5;

        @AttributeDefinition(name = "Maximum connections",
                description = "Connections accepted at once, logged in or not; more are refused.", min = "1")
        int maxConnections() default 1024;

        @AttributeDefinition(name = "Maximum connections per address",
                description = "Connections accepted at once from one IP address.", min = "1")
        int maxConnectionsPerAddress() default 256;

        @AttributeDefinition(name = "Login timeout (s)",
                description = "A connection that has not logged in by then is closed.", min = "1")
        int loginTimeoutSeconds() default 15;

        @AttributeDefinition(name = "Write budget (MiB)",
                description = "Write data buffered at once for all connections; beyond it, TASK SET FULL.", min = "1")
        long writeBudgetMiB() default 1024;

        @AttributeDefinition(name = "Write share", type = AttributeType.DOUBLE,
                description = "The fraction of the write budget one connection may hold, in (0, 1].",
                min = "0", max = "1")
        double writeShare() default 0.25;
    }

    private final IscsiTarget target;

    @Activate
    public TargetComponent(Config config) throws IOException {
        LunSpec lun = config.lunFile().isEmpty()
                ? LunSpec.ram(config.lunSizeMiB() << 20)
                : LunSpec.file(Path.of(config.lunFile()), config.lunSizeMiB() << 20);
        LunSpec spec = lun.withBlockSize(config.blockSize()).withReadOnly(config.readOnly())
                .withRemovableMedium(config.removable()).withPhysicalBlockExponent(config.physicalBlockExponent());
        IscsiTarget.Builder builder = IscsiTarget.builder()
                .portal(config.host(), config.port())
                .nopIn(Duration.ofSeconds(config.nopIntervalSeconds()), Duration.ofSeconds(3L * config.nopIntervalSeconds()))
                .maxConnections(config.maxConnections(), config.maxConnectionsPerAddress())
                .loginTimeout(Duration.ofSeconds(config.loginTimeoutSeconds()))
                .writeBudget(config.writeBudgetMiB() << 20, config.writeShare())
                .target(config.targetName(), t -> {
                    t.lun(0, spec);
                    if (!config.alias().isEmpty()) {
                        t.alias(config.alias());
                    }
                    if (!config.chapUser().isEmpty()) {
                        t.chap(config.chapTargetUser().isEmpty()
                                ? ChapCredentials.oneWay(config.chapUser(), config.chapSecret())
                                : ChapCredentials.mutual(config.chapUser(), config.chapSecret(),
                                        config.chapTargetUser(), config.chapTargetSecret()));
                    }
                });
        IscsiTarget built = builder.build();
        try {
            built.start();
        } catch (IOException | RuntimeException e) {
            built.close();
            throw e;
        }
        this.target = built;
        LOG.log(Level.INFO, "iSCSI target " + config.targetName() + " listening on " + built.addresses());
    }

    /** The running target (for tests and diagnostics). */
    public IscsiTarget target() {
        return target;
    }

    @Deactivate
    public void deactivate() {
        target.close();
    }
}
