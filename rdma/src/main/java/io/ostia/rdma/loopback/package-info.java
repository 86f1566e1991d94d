/**
 * The in-JVM loopback fabric: the verbs API without RDMA hardware, with fault injection for
 * tests (dropped connections, device removal, delayed, held, reordered or lost CM events and
 * work completions, work requests failed with a chosen status).
 */
@Export
@Version("0.2.0")
package io.ostia.rdma.loopback;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
