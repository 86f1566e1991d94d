/**
 * SCSI vocabulary shared by the initiator and the embedded target: status codes, sense data,
 * operation codes and CDB builders, and decoders for the replies the initiator reads.
 */
@Export
@Version("0.5.0")
package io.ostia.api.scsi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
