/**
 * CHAP authentication for iSCSI login (RFC 1994 as profiled by RFC 7143 §12.1.3): algorithms,
 * responses, challenges, secret rules, and the two halves of a one-way or mutual exchange
 * ({@link io.ostia.api.auth.ChapInitiator}, {@link io.ostia.api.auth.ChapTarget}). No threads, no I/O.
 */
@Export
@Version("0.1.0")
package io.ostia.api.auth;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
