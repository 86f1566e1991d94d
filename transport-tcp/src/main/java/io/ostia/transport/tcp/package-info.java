/**
 * iSCSI over TCP for programs on the module or class path that want a TCP transport with their
 * own settings rather than the {@link java.util.ServiceLoader} default. In OSGi the transport is
 * a Declarative Services component configured under the PID {@code io.ostia.transport.tcp}.
 */
@Export
@Version("0.1.0")
package io.ostia.transport.tcp;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
