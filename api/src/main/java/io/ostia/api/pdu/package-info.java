/**
 * The iSCSI PDU model of RFC 7143 (one record per opcode) and its codec: {@link
 * io.ostia.api.pdu.PduEncoder} writes headers for gather-writes, {@link
 * io.ostia.api.pdu.PduDecoder} is a resumable state machine for zero-copy socket reads;
 * {@link io.ostia.api.pdu.TaskTagTable} keeps per-command state by task tag. No threads, no I/O.
 */
@Export
@Version("0.9.0")
package io.ostia.api.pdu;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
