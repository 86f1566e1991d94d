package io.ostia.target.internal.iscsi;

import io.ostia.api.iser.IserHeader;

import java.lang.foreign.MemorySegment;

/**
 * The STags an iSER header carried with one SCSI command (RFC 7145 §9.2), in a reusable holder:
 * the target reads a header per command and keeps its tags until the command runs, without an
 * object per command. Confined to the connection's thread.
 */
final class IserStags {
    private boolean writeStagValid;
    private int writeStag;
    private long writeBaseOffset;
    private boolean readStagValid;
    private int readStag;
    private long readBaseOffset;

    /** Whether the flags byte of a control header sets WSV or RSV. */
    static boolean anyValid(byte flags) {
        return (flags & (IserHeader.WSV | IserHeader.RSV)) != 0;
    }

    /** Reads the STags of the control header at {@code at}; a STag whose valid flag is clear is ignored. */
    void decode(byte flags, MemorySegment message, long at) {
        writeStagValid = (flags & IserHeader.WSV) != 0;
        readStagValid = (flags & IserHeader.RSV) != 0;
        writeStag = writeStagValid ? IserHeader.writeStag(message, at) : 0;
        writeBaseOffset = writeStagValid ? IserHeader.writeBaseOffset(message, at) : 0;
        readStag = readStagValid ? IserHeader.readStag(message, at) : 0;
        readBaseOffset = readStagValid ? IserHeader.readBaseOffset(message, at) : 0;
    }

    void copyFrom(IserStags other) {
        writeStagValid = other.writeStagValid;
        writeStag = other.writeStag;
        writeBaseOffset = other.writeBaseOffset;
        readStagValid = other.readStagValid;
        readStag = other.readStag;
        readBaseOffset = other.readBaseOffset;
    }

    boolean writeStagValid() {
        return writeStagValid;
    }

    int writeStag() {
        return writeStag;
    }

    long writeBaseOffset() {
        return writeBaseOffset;
    }

    boolean readStagValid() {
        return readStagValid;
    }

    int readStag() {
        return readStag;
    }

    long readBaseOffset() {
        return readBaseOffset;
    }
}
