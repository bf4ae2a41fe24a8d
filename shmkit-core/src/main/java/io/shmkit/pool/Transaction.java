package io.shmkit.pool;

import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.Set;

/**
 * One running {@link Pools#atomically} transaction. Before changing an object, call
 * {@link #write}: it saves the object's bytes in the undo log in shared memory and returns the
 * record to change. Allocations and frees made through the pools inside the transaction join
 * it: a rollback frees what it allocated, and frees happen only at commit.
 *
 * <p>Only the thread running the transaction may use it, and only until the body returns.
 */
public final class Transaction {

    private final Pools pools;
    final Set<Long> written = new HashSet<>();

    Transaction(Pools pools) {
        this.pools = pools;
    }

    /**
     * Records the object for rollback (once per transaction) and returns its record, writable.
     * While the transaction runs the object's version word is odd, so readers in other
     * processes can tell it is being written.
     *
     * @throws StaleHandleException  if the handle's object no longer exists
     * @throws IllegalStateException if the undo log is full (the transaction is rolled back)
     */
    public MemorySegment write(long handle) {
        if (pools.current != this) {
            throw new IllegalStateException("transaction is over");
        }
        Pool p = pools.pool(Handles.type(handle));
        MemorySegment record = p.get(handle);
        if (written.add(handle)) {
            try {
                pools.undo.logBytes(handle, p);
            } catch (RuntimeException e) {
                written.remove(handle);
                throw e;
            }
        }
        return record;
    }

    /** The object's record for reading (no logging). */
    public MemorySegment read(long handle) {
        return pools.pool(Handles.type(handle)).get(handle);
    }
}
