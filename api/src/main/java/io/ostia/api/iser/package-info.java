/**
 * The iSER wire format (RFC 7145): the 28-byte iSER header in front of every iSCSI control-type
 * PDU ({@link io.ostia.api.iser.IserHeader}), the Hello and HelloReply messages, and the private
 * data of the RDMA CM connect request ({@link io.ostia.api.iser.IserCmHeader}). Shared by the
 * initiator's iSER transport and the embedded target's iSER portal. No threads, no I/O: each
 * message reads from and writes into a {@link java.lang.foreign.MemorySegment} at an offset, so
 * that a transport encodes straight into its registered send buffers.
 */
@Export
@Version("0.2.0")
package io.ostia.api.iser;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
