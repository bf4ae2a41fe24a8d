package io.shmkit.segment;

import io.shmkit.internal.Libc;
import io.shmkit.internal.OwnerTable;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * One attachment's part in the header's attach table: it registers the attachment when it
 * attaches (unless it only inspects), keeps the owner table able to find the mapped memory as
 * the mapping grows, lists the attached processes, and detaches. How slots are claimed (an OFD
 * lock per slot, or a CAS for System V), what an owner id is and whether its process lives are
 * the owner table's business ({@code OwnerTable}); this class decides when. Not thread-safe:
 * {@link Segment} calls it under its monitor (or before the instance is published).
 */
final class AttachTable {

    private final OwnerTable owners;

    /** Registers (if {@code register}) in the table of the header at the start of {@code view}. */
    AttachTable(MemorySegment view, Mapping mapping, Backend backend, boolean register) {
        int fd = mapping instanceof FileMapping f ? f.fd() : -1;
        this.owners = OwnerTable.open(view, fd, backend, register);
        cover(mapping);
    }

    /** This process's identity and the liveness of other owners, for memory in this segment. */
    OwnerTable owners() {
        return owners;
    }

    /** Makes the owner table find this segment for everything {@code mapping} maps now. */
    void cover(Mapping mapping) {
        owners.cover(mapping.address(), mapping.size());
    }

    /** The processes registered in the table, with whether each still runs. */
    List<AttachedProcess> attached() {
        return owners.attached();
    }

    /**
     * Detaches before {@code mapping} is released: makes a protected mapping writable again so
     * the slot can be written, and releases the slot (before the descriptor closes: the kernel
     * lock goes with it). If another process truncated the file below the header, nothing is
     * written (it would fault); closing the descriptor then drops the kernel lock.
     */
    void detach(Mapping mapping, boolean protectedReadOnly) {
        boolean headerThere = mapping.headerBacked();
        if (owners.registered() && protectedReadOnly && headerThere) {
            mapping.protect(Libc.PROT_READ | Libc.PROT_WRITE);
        }
        if (headerThere) {
            owners.release();
        } else {
            owners.forget();
        }
    }
}
