/**
 * iSCSI text data and negotiation (RFC 7143 §5 and §6, §13; iSER keys of RFC 7145): {@code
 * key=value} lists, the registry of keys with their negotiation rules, and a {@link
 * io.ostia.api.text.Negotiator} usable by an initiator and a target. No threads, no I/O.
 */
@Export
@Version("0.2.0")
package io.ostia.api.text;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
