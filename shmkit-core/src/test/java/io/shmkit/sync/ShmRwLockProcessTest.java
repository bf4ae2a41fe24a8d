package io.shmkit.sync;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;
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

    private String name;
    private Segment segment;
    private MemorySegment mem;
    private long lockOff;
    private long dataOff;
    private ShmRwLock lock;

    @BeforeEach
    void setUp() {
        name = TestNames.unique("rwlock");
        segment = Segment.create(SegmentName.posix(name), 64 * 1024);
        mem = segment.memory();
        lockOff = segment.dataOffset();
        lock = ShmRwLock.create(mem, lockOff, 8);
        dataOff = lockOff + ShmRwLock.bytesNeeded(8);
    }

    @AfterEach
    void tearDown() {
        segment.closeAndUnlink();
    }

    @Test
    void twoProcessesWriteExactlyAndReadersNeverSeeATornPair() throws Exception {
        // per process: 2 writer threads x 250,000 writes and 2 reader threads
        int per = 250_000;
        try (ChildJvm a = ChildJvm.start(SyncChild.class, "rw-mix", name, "" + lockOff, "" + dataOff, "4", "" + per);
             ChildJvm b = ChildJvm.start(SyncChild.class, "rw-mix", name, "" + lockOff, "" + dataOff, "4", "" + per)) {
            a.awaitLine("READY", Duration.ofSeconds(60));
            b.awaitLine("READY", Duration.ofSeconds(60));
            mem.set(ValueLayout.JAVA_LONG, dataOff + 16, 1L); // go
            String ra = a.awaitLine("DONE", Duration.ofSeconds(150));
            String rb = b.awaitLine("DONE", Duration.ofSeconds(150));
            assertTrue(ra.startsWith("DONE torn=0 reads="), ra);
            assertTrue(rb.startsWith("DONE torn=0 reads="), rb);
            assertEquals(0, a.waitFor(Duration.ofSeconds(30)));
            assertEquals(0, b.waitFor(Duration.ofSeconds(30)));
        }
        assertEquals(1_000_000L, mem.get(ValueLayout.JAVA_LONG, dataOff));
        assertEquals(1_000_000L, mem.get(ValueLayout.JAVA_LONG, dataOff + 8));
        assertEquals(0, lock.readers());
        assertTrue(lock.isConsistent());
    }

    @Test
    void writerKilledWithSigkillIsReportedToTheNextWriter() throws Exception {
        try (ChildJvm child = ChildJvm.start(SyncChild.class, "hold-write", name, "" + lockOff)) {
            assertEquals("LOCKED ACQUIRED", child.awaitLine("LOCKED", Duration.ofSeconds(60)));
            assertEquals(LockResult.BUSY, lock.tryWriteLock());
            assertEquals(LockResult.BUSY, lock.tryReadLock());
            child.kill9();
            long t0 = System.nanoTime();
            assertEquals(LockResult.OWNER_DIED, lock.writeLock(10, TimeUnit.SECONDS));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 500, "took " + ms + " ms");
            lock.markConsistent();
            lock.writeUnlock();
        }
        assertEquals(LockResult.ACQUIRED, lock.readLock());
        lock.readUnlock();
    }

    @Test
    void readersBlockedByAKilledWriterGetIn() throws Exception {
        try (ChildJvm child = ChildJvm.start(SyncChild.class, "hold-write", name, "" + lockOff)) {
            child.awaitLine("LOCKED", Duration.ofSeconds(60));
            CompletableFuture<LockResult> reader = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                reader.complete(lock.readLock());
                lock.readUnlock();
            });
            t.start();
            Thread.sleep(100);
            assertFalse(reader.isDone(), "reader got in while a live writer holds the lock");
            child.kill9();
            long t0 = System.nanoTime();
            assertEquals(LockResult.OWNER_DIED, reader.get(10, TimeUnit.SECONDS));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 1000, "took " + ms + " ms");
            t.join(10_000);
        }
        assertFalse(lock.isConsistent());
        assertEquals(LockResult.OWNER_DIED, lock.writeLock());
        lock.markConsistent();
        lock.writeUnlock();
    }

    @Test
    void readerKilledWithSigkillDoesNotBlockWriters() throws Exception {
        try (ChildJvm child = ChildJvm.start(SyncChild.class, "hold-read", name, "" + lockOff)) {
            assertEquals("LOCKED ACQUIRED", child.awaitLine("LOCKED", Duration.ofSeconds(60)));
            assertEquals(1, lock.readers());
            assertEquals(LockResult.TIMED_OUT, lock.writeLock(50, TimeUnit.MILLISECONDS));
            // a timed-out writer must not keep readers out
            assertEquals(LockResult.ACQUIRED, lock.readLock(1, TimeUnit.SECONDS));
            lock.readUnlock();
            child.kill9();
            long t0 = System.nanoTime();
            assertEquals(LockResult.ACQUIRED, lock.writeLock(10, TimeUnit.SECONDS));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 500, "took " + ms + " ms");
            lock.writeUnlock();
        }
        assertEquals(0, lock.readers());
    }
}
