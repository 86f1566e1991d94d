/**
 * Fixtures that start real iSCSI peers for tests: {@link io.ostia.testing.TgtdServer} runs the
 * Linux target on loopback, {@link io.ostia.testing.ExternalTool} runs libiscsi's tools with a
 * bound on their running time.
 */
@Export
@Version("0.1.0")
package io.ostia.testing;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
