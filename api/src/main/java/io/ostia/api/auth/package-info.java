/**
 * CHAP authentication for iSCSI login (RFC 1994 as profiled by RFC 7143 §12.1.3): algorithms,
 * responses, challenges, secret rules. No threads, no I/O.
 */
@Export
@Version("0.1.0")
package io.ostia.api.auth;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
