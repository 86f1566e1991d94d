package io.ostia.rdma.internal.ffm;

import io.ostia.rdma.internal.ffm.gen.Verbs;
import io.ostia.rdma.internal.ffm.gen.sockaddr_in;
import io.ostia.rdma.internal.ffm.gen.sockaddr_in6;
import io.ostia.rdma.internal.ffm.gen.sockaddr_storage;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** Converts between {@link InetSocketAddress} and {@code struct sockaddr_in/_in6}. */
final class SocketAddresses {
    private static final ValueLayout.OfShort PORT = JAVA_SHORT.withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    private SocketAddresses() {
    }

    static MemorySegment toNative(InetSocketAddress address, Arena arena) {
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("address is unresolved: " + address);
        }
        InetAddress ip = address.getAddress();
        if (ip instanceof Inet4Address) {
            MemorySegment sin = arena.allocate(sockaddr_in.layout());
            sockaddr_in.sin_family(sin, (short) Verbs.AF_INET());
            sin.set(PORT, sockaddr_in.sin_port$offset(), (short) address.getPort());
            MemorySegment.copy(ip.getAddress(), 0, sin, JAVA_BYTE, sockaddr_in.sin_addr$offset(), 4);
            return sin;
        }
        MemorySegment sin6 = arena.allocate(sockaddr_in6.layout());
        sockaddr_in6.sin6_family(sin6, (short) Verbs.AF_INET6());
        sin6.set(PORT, sockaddr_in6.sin6_port$offset(), (short) address.getPort());
        MemorySegment.copy(ip.getAddress(), 0, sin6, JAVA_BYTE, sockaddr_in6.sin6_addr$offset(), 16);
        sockaddr_in6.sin6_scope_id(sin6, ((Inet6Address) ip).getScopeId());
        return sin6;
    }

    /** Reads a {@code struct sockaddr_storage}; null if its family is neither IPv4 nor IPv6. */
    static InetSocketAddress fromNative(MemorySegment storage) {
        int family = sockaddr_storage.ss_family(storage);
        try {
            if (family == Verbs.AF_INET()) {
                byte[] ip = storage.asSlice(sockaddr_in.sin_addr$offset(), 4).toArray(JAVA_BYTE);
                return new InetSocketAddress(InetAddress.getByAddress(ip), Short.toUnsignedInt(storage.get(PORT, sockaddr_in.sin_port$offset())));
            }
            if (family == Verbs.AF_INET6()) {
                byte[] ip = storage.asSlice(sockaddr_in6.sin6_addr$offset(), 16).toArray(JAVA_BYTE);
                return new InetSocketAddress(Inet6Address.getByAddress(null, ip, sockaddr_in6.sin6_scope_id(storage)),
                        Short.toUnsignedInt(storage.get(PORT, sockaddr_in6.sin6_port$offset())));
            }
            return null;
        } catch (UnknownHostException e) {
            throw new IllegalStateException("a 4 or 16 byte address is always valid", e);
        }
    }
}
