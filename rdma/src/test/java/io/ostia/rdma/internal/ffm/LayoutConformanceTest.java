package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.internal.ffm.gen.ibv_comp_channel;
import io.ostia.rdma.internal.ffm.gen.ibv_context;
import io.ostia.rdma.internal.ffm.gen.ibv_context_ops;
import io.ostia.rdma.internal.ffm.gen.ibv_cq;
import io.ostia.rdma.internal.ffm.gen.ibv_device_attr;
import io.ostia.rdma.internal.ffm.gen.ibv_mr;
import io.ostia.rdma.internal.ffm.gen.ibv_qp;
import io.ostia.rdma.internal.ffm.gen.ibv_qp_attr;
import io.ostia.rdma.internal.ffm.gen.ibv_qp_cap;
import io.ostia.rdma.internal.ffm.gen.ibv_qp_init_attr;
import io.ostia.rdma.internal.ffm.gen.ibv_recv_wr;
import io.ostia.rdma.internal.ffm.gen.ibv_send_wr;
import io.ostia.rdma.internal.ffm.gen.ibv_sge;
import io.ostia.rdma.internal.ffm.gen.ibv_wc;
import io.ostia.rdma.internal.ffm.gen.rdma_addr;
import io.ostia.rdma.internal.ffm.gen.rdma_cm_event;
import io.ostia.rdma.internal.ffm.gen.rdma_cm_id;
import io.ostia.rdma.internal.ffm.gen.rdma_conn_param;
import io.ostia.rdma.internal.ffm.gen.rdma_event_channel;
import io.ostia.rdma.internal.ffm.gen.rdma_route;
import io.ostia.rdma.internal.ffm.gen.sockaddr_in;
import io.ostia.rdma.internal.ffm.gen.sockaddr_in6;
import io.ostia.rdma.internal.ffm.gen.sockaddr_storage;
import org.junit.jupiter.api.Test;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compiles a probe against the installed headers that prints sizeof and offsetof of every
 * struct and field the native provider touches, and compares them with the generated layouts.
 * A header that changed under the generated code fails here, not in production.
 */
class LayoutConformanceTest {
    /** Struct name to the fields (C member designators) the provider reads or writes. */
    private static final Map<String, List<String>> FIELDS = new LinkedHashMap<>();
    private static final Map<String, GroupLayout> LAYOUTS = new LinkedHashMap<>();

    private static void struct(String name, GroupLayout layout, String... fields) {
        LAYOUTS.put(name, layout);
        FIELDS.put(name, List.of(fields));
    }

    static {
        struct("ibv_context", ibv_context.layout(), "device", "ops", "async_fd");
        struct("ibv_async_event", DeviceContexts.ASYNC_EVENT, "element", "event_type");
        struct("ibv_device_attr", ibv_device_attr.layout(), "max_mr_size", "max_qp_wr", "max_sge", "max_cqe");
        struct("ibv_context_ops", ibv_context_ops.layout(), "poll_cq", "req_notify_cq", "post_send", "post_recv");
        struct("ibv_qp", ibv_qp.layout(), "context", "state", "qp_num");
        struct("ibv_cq", ibv_cq.layout(), "context");
        struct("ibv_sge", ibv_sge.layout(), "addr", "length", "lkey");
        struct("ibv_send_wr", ibv_send_wr.layout(), "wr_id", "next", "sg_list", "num_sge", "opcode", "send_flags",
                "imm_data", "wr.rdma.remote_addr", "wr.rdma.rkey");
        struct("ibv_recv_wr", ibv_recv_wr.layout(), "wr_id", "next", "sg_list", "num_sge");
        struct("ibv_wc", ibv_wc.layout(), "wr_id", "status", "opcode", "vendor_err", "byte_len", "imm_data",
                "qp_num", "wc_flags");
        struct("ibv_mr", ibv_mr.layout(), "lkey", "rkey");
        struct("ibv_comp_channel", ibv_comp_channel.layout(), "fd");
        struct("ibv_qp_cap", ibv_qp_cap.layout(), "max_send_wr", "max_recv_wr", "max_send_sge", "max_recv_sge",
                "max_inline_data");
        struct("ibv_qp_init_attr", ibv_qp_init_attr.layout(), "send_cq", "recv_cq", "cap", "qp_type", "sq_sig_all");
        struct("ibv_qp_attr", ibv_qp_attr.layout(), "qp_state");
        struct("rdma_event_channel", rdma_event_channel.layout(), "fd");
        struct("rdma_cm_id", rdma_cm_id.layout(), "verbs", "qp", "route");
        struct("rdma_route", rdma_route.layout(), "addr");
        struct("rdma_addr", rdma_addr.layout(), "src_storage", "dst_storage");
        struct("rdma_cm_event", rdma_cm_event.layout(), "id", "listen_id", "event", "status", "param.conn");
        struct("rdma_conn_param", rdma_conn_param.layout(), "private_data", "private_data_len", "responder_resources",
                "initiator_depth", "flow_control", "retry_count", "rnr_retry_count", "srq", "qp_num");
        struct("sockaddr_in", sockaddr_in.layout(), "sin_family", "sin_port", "sin_addr");
        struct("sockaddr_in6", sockaddr_in6.layout(), "sin6_family", "sin6_port", "sin6_addr", "sin6_scope_id");
        struct("sockaddr_storage", sockaddr_storage.layout(), "ss_family");
    }

    private static String probeSource() {
        StringBuilder c = new StringBuilder("""
                #include <stddef.h>
                #include <stdio.h>
                #include <infiniband/verbs.h>
                #include <rdma/rdma_cma.h>
                #define FIELD(s, f) printf("%s %s %zu %zu\\n", #s, #f, offsetof(struct s, f), sizeof(((struct s *) 0)->f))
                int main(void) {
                """);
        FIELDS.forEach((struct, fields) -> {
            c.append("    printf(\"%s sizeof %zu 0\\n\", \"").append(struct).append("\", sizeof(struct ").append(struct).append("));\n");
            for (String f : fields) {
                c.append("    FIELD(").append(struct).append(", ").append(f).append(");\n");
            }
        });
        return c.append("    return 0;\n}\n").toString();
    }

    /** Offset and size of a dotted path, looking through jextract's anonymous struct/union members. */
    private static long[] javaOffsetAndSize(GroupLayout layout, String path) {
        long offset = 0;
        MemoryLayout current = layout;
        for (String name : path.split("\\.")) {
            Long found = find((GroupLayout) current, name);
            if (found == null) {
                throw new AssertionError("no field " + name + " in the generated layout " + current);
            }
            offset += found;
            current = memberAt((GroupLayout) current, name);
        }
        return new long[] {offset, current.byteSize()};
    }

    private static Long find(GroupLayout group, String name) {
        for (MemoryLayout m : group.memberLayouts()) {
            if (m.name().filter(name::equals).isPresent()) {
                return offsetOf(group, m);
            }
            if (m instanceof GroupLayout inner && m.name().filter(n -> n.startsWith("$anon$")).isPresent()) {
                Long nested = find(inner, name);
                if (nested != null) {
                    return offsetOf(group, m) + nested;
                }
            }
        }
        return null;
    }

    private static long offsetOf(GroupLayout group, MemoryLayout member) {
        if (!(group instanceof java.lang.foreign.StructLayout)) {
            return 0;
        }
        long offset = 0;
        for (MemoryLayout m : group.memberLayouts()) {
            if (m == member) {
                return offset;
            }
            offset += m.byteSize();
        }
        throw new AssertionError(member + " is not in " + group);
    }

    private static MemoryLayout memberAt(GroupLayout group, String name) {
        for (MemoryLayout m : group.memberLayouts()) {
            if (m.name().filter(name::equals).isPresent()) {
                return m;
            }
            if (m instanceof GroupLayout inner && m.name().filter(n -> n.startsWith("$anon$")).isPresent()) {
                MemoryLayout nested = memberAt(inner, name);
                if (nested != null) {
                    return nested;
                }
            }
        }
        return null;
    }

    @Test
    void generatedLayoutsMatchTheInstalledHeaders() throws Exception {
        CToolchain.assumeAvailable();
        Path source = CToolchain.source("layout_probe.c", probeSource());
        Path probe = source.resolveSibling("layout_probe");
        CToolchain.gcc("-Wall", "-Werror", "-o", probe.toString(), source.toString());
        String output = CToolchain.run(List.of(probe.toAbsolutePath().toString()));

        List<String> mismatches = new ArrayList<>();
        int checked = 0;
        for (String line : output.strip().split("\n")) {
            String[] p = line.split(" ");
            String struct = p[0];
            String field = p[1];
            long cOffset = Long.parseLong(p[2]);
            long cSize = Long.parseLong(p[3]);
            GroupLayout layout = LAYOUTS.get(struct);
            if (field.equals("sizeof")) {
                if (layout.byteSize() != cOffset) {
                    mismatches.add("sizeof(struct " + struct + "): C " + cOffset + ", Java " + layout.byteSize());
                }
            } else {
                long[] java = javaOffsetAndSize(layout, field);
                if (java[0] != cOffset || java[1] != cSize) {
                    mismatches.add(struct + "." + field + ": C offset " + cOffset + " size " + cSize
                            + ", Java offset " + java[0] + " size " + java[1]);
                }
            }
            checked++;
        }
        int expected = FIELDS.size() + FIELDS.values().stream().mapToInt(List::size).sum();
        assertEquals(expected, checked, "the probe printed every struct and field");
        assertTrue(mismatches.isEmpty(), "layouts differ from the installed headers:\n" + String.join("\n", mismatches));
    }
}
