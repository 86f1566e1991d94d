/**
 * The iSER transport (RFC 7145): iSCSI over RDMA on the {@code io.ostia.rdma} verbs API, with
 * the connection management of Linux's {@code ib_iser} after commit b73c3adabdb1 and its later
 * fixes (no reference counts; ordered, asynchronous release). In OSGi a Declarative Services
 * component registers the transport when its RDMA provider has a device; on the module path
 * {@link java.util.ServiceLoader} creates it with {@link
 * io.ostia.transport.iser.IserTransportOptions#defaults()}.
 */
@Export
@Version("0.2.0")
package io.ostia.transport.iser;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
