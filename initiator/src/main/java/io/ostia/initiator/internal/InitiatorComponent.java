package io.ostia.initiator.internal;

import io.ostia.api.FailbackPolicy;
import io.ostia.api.Initiator;
import io.ostia.api.spi.IscsiTransport;
import io.ostia.initiator.InitiatorSettings;
import java.time.Duration;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The initiator as a Declarative Services component. Transports come and go through a dynamic,
 * multiple reference; a session whose transport leaves is told by the transport itself (before
 * its service goes) and moves to another one; one whose transport's service goes without that
 * notice is moved at unbind; a transport that appears draws the sessions whose failback policy
 * prefers it. The transports belong to their bundles, so closing the component closes none of them.
 *
 * <p>Its settings come from Configuration Admin (PID {@value #PID}); a change is applied by
 * {@link #modified} without restarting the component, so no session is dropped: running
 * sessions keep the options they logged in with (failback policy included), later logins take
 * the new ones. No setting needs a restart.
 */
@Component(service = Initiator.class, configurationPid = InitiatorComponent.PID)
@Designate(ocd = InitiatorComponent.Config.class)
public final class InitiatorComponent extends IscsiInitiator {

    static final String PID = "io.ostia.initiator";

    @ObjectClassDefinition(name = "Ostia iSCSI initiator",
            description = "Defaults of the sessions the initiator logs in, and how they move between transports. "
                    + "A change applies to sessions logged in afterwards; running sessions keep their values.")
    public @interface Config {
        @AttributeDefinition(name = "Initiator name", required = false,
                description = "The iSCSI qualified name the initiator logs in with; empty for Ostia's default")
        String initiatorName() default "";

        @AttributeDefinition(name = "Transport preference",
                description = "Transport names separated by commas, most preferred first; a login uses the first "
                        + "that is available and connects")
        String transports() default "iser,tcp";

        @AttributeDefinition(name = "Login timeout (ms)", min = "1",
                description = "How long a login, or a discovery exchange, may take")
        long loginTimeoutMillis() default 15_000;

        @AttributeDefinition(name = "NOP interval (ms)", min = "0",
                description = "Idle time before a keepalive NOP-Out; 0 turns keepalives off")
        long nopIntervalMillis() default 5_000;

        @AttributeDefinition(name = "NOP timeout (ms)", min = "1",
                description = "How long a NOP-Out may go unanswered before the connection counts as failed")
        long nopTimeoutMillis() default 5_000;

        @AttributeDefinition(name = "Replacement timeout (ms)", min = "0",
                description = "How long a session whose connection failed tries to log in again before its "
                        + "queued commands fail")
        long replacementTimeoutMillis() default 120_000;

        @AttributeDefinition(name = "Failback policy",
                description = "NONE: a session stays on its transport until it must move; PREFERRED: it moves to a "
                        + "more preferred transport when one appears. Like the other values, it applies to sessions "
                        + "logged in afterwards")
        FailbackPolicy failback() default FailbackPolicy.NONE;
    }

    @Activate
    public InitiatorComponent(Config config) {
        super(List.of(), settings(config));
    }

    static InitiatorSettings settings(Config config) {
        InitiatorSettings.Builder b = InitiatorSettings.builder()
                .transports(config.transports())
                .loginTimeout(Duration.ofMillis(config.loginTimeoutMillis()))
                .nopInterval(Duration.ofMillis(config.nopIntervalMillis()))
                .nopTimeout(Duration.ofMillis(config.nopTimeoutMillis()))
                .replacementTimeout(Duration.ofMillis(config.replacementTimeoutMillis()))
                .failback(config.failback());
        if (!config.initiatorName().isBlank()) {
            b.initiatorName(config.initiatorName().strip());
        }
        return b.build();
    }

    /**
     * A new configuration, applied in place. A bad value is refused with the reason logged and
     * the current settings kept: throwing here would make SCR deactivate the component, which
     * logs every session out.
     */
    @Modified
    void modified(Config config) {
        InitiatorSettings next;
        try {
            next = settings(config);
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.ERROR, "configuration " + PID + " refused, keeping " + settings() + ": "
                    + e.getMessage(), e);
            return;
        }
        reconfigure(next);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindTransport(IscsiTransport transport) {
        addTransport(transport);
    }

    void unbindTransport(IscsiTransport transport) {
        removeTransport(transport);
    }

    /** Logs every session out and stops the timer thread: what the constructor started. */
    @Deactivate
    void deactivate() {
        close();
    }
}
