/**
 * Ostia's consumer API: the {@code Initiator} service, sessions, block devices, target addresses
 * and the error hierarchy. No threads, no I/O.
 */
@Export
@Version("0.4.0")
package io.ostia.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
