/**
 * The in-JVM loopback fabric: the verbs API without RDMA hardware, with fault injection for
 * tests (dropped connections, device removal, delayed, held, reordered or lost CM events).
 */
@Export
@Version("0.1.0")
package io.ostia.rdma.loopback;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
