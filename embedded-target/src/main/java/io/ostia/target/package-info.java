/**
 * An embedded iSCSI target: RAM- or file-backed LUNs served over TCP and iSER portals, for tests, demos
 * and users' own test rigs. Start one with {@link io.ostia.target.IscsiTarget#builder()}; in an
 * OSGi framework, configure the component with PID {@code io.ostia.target} instead.
 */
@Export
@Version("0.3.0")
package io.ostia.target;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
