/**
 * The plain-Java entry point to Ostia's initiator: {@link io.ostia.initiator.Initiators} builds
 * an {@link io.ostia.api.Initiator} whose transports come from {@link java.util.ServiceLoader}.
 * In OSGi, use the {@code Initiator} service instead.
 */
@Export
@Version("0.2.0")
package io.ostia.initiator;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
