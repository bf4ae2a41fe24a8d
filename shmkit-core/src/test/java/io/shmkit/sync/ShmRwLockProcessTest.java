package io.shmkit.sync;

import io.shmkit.sync.LockProcesses.Holder;
import io.shmkit.sync.LockProcesses.Timed;
import io.shmkit.testing.ChildJvm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ShmRwLock} across real child JVMs, with writers and readers killed by SIGKILL. */
class ShmRwLockProcessTest {

    private LockProcesses procs;
    private MemorySegment mem;
    private long lockOff;
    private long dataOff;
    private ShmRwLock lock;

    @BeforeEach
    void setUp() {
        procs = LockProcesses.create("rwlock");
        mem = procs.mem;
        lockOff = procs.base;
        lock = ShmRwLock.create(mem, lockOff, 8);
        dataOff = lockOff + ShmRwLock.bytesNeeded(8);
    }

    @AfterEach
    void tearDown() {
        procs.close();
    }

    @Test
    void twoProcessesWriteExactlyAndReadersNeverSeeATornPair() throws Exception {
        // per process: 2 writer threads x 250,000 writes and 2 reader threads
        int per = 250_000;
        try (ChildJvm a = procs.start("rw-mix", lockOff, dataOff, 4, per);
             ChildJvm b = procs.start("rw-mix", lockOff, dataOff, 4, per)) {
            LockProcesses.awaitReady(a, b);
            procs.go(dataOff);
            for (String done : LockProcesses.awaitDone(Duration.ofSeconds(150), a, b)) {
                assertTrue(done.startsWith("DONE torn=0 reads="), done);
            }
            LockProcesses.assertExitClean(a, b);
        }
        assertEquals(1_000_000L, mem.get(ValueLayout.JAVA_LONG, dataOff));
        assertEquals(1_000_000L, mem.get(ValueLayout.JAVA_LONG, dataOff + 8));
        assertEquals(0, lock.readers());
        assertTrue(lock.isConsistent());
    }

    @Test
    void writerKilledWithSigkillIsReportedToTheNextWriter() throws Exception {
        try (Holder h = procs.hold("hold-write", lockOff)) {
            assertEquals("LOCKED ACQUIRED", h.line());
            assertEquals(LockResult.BUSY, lock.tryWriteLock());
            assertEquals(LockResult.BUSY, lock.tryReadLock());
            h.child().kill9();
            Timed<LockResult> t = LockProcesses.timed(() -> lock.writeLock(10, TimeUnit.SECONDS));
            assertEquals(LockResult.OWNER_DIED, t.value());
            assertTrue(t.millis() < 500, "took " + t.millis() + " ms");
            lock.markConsistent();
            lock.writeUnlock();
        }
        assertEquals(LockResult.ACQUIRED, lock.readLock());
        lock.readUnlock();
    }

    @Test
    void readersBlockedByAKilledWriterGetIn() throws Exception {
        try (Holder h = procs.hold("hold-write", lockOff)) {
            CompletableFuture<LockResult> reader = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                reader.complete(lock.readLock());
                lock.readUnlock();
            });
            t.start();
            Thread.sleep(100);
            assertFalse(reader.isDone(), "reader got in while a live writer holds the lock");
            h.child().kill9();
            Timed<LockResult> woke = LockProcesses.timed(() -> reader.get(10, TimeUnit.SECONDS));
            assertEquals(LockResult.OWNER_DIED, woke.value());
            assertTrue(woke.millis() < 1000, "took " + woke.millis() + " ms");
            t.join(10_000);
        }
        assertFalse(lock.isConsistent());
        assertEquals(LockResult.OWNER_DIED, lock.writeLock());
        lock.markConsistent();
        lock.writeUnlock();
    }

    @Test
    void readerKilledWithSigkillDoesNotBlockWriters() throws Exception {
        try (Holder h = procs.hold("hold-read", lockOff)) {
            assertEquals("LOCKED ACQUIRED", h.line());
            assertEquals(1, lock.readers());
            assertEquals(LockResult.TIMED_OUT, lock.writeLock(50, TimeUnit.MILLISECONDS));
            // a timed-out writer must not keep readers out
            assertEquals(LockResult.ACQUIRED, lock.readLock(1, TimeUnit.SECONDS));
            lock.readUnlock();
            h.child().kill9();
            Timed<LockResult> t = LockProcesses.timed(() -> lock.writeLock(10, TimeUnit.SECONDS));
            assertEquals(LockResult.ACQUIRED, t.value());
            assertTrue(t.millis() < 500, "took " + t.millis() + " ms");
            lock.writeUnlock();
        }
        assertEquals(0, lock.readers());
    }
}
