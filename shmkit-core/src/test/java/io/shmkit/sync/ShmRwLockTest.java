package io.shmkit.sync;

import io.shmkit.internal.MutexLayout;
import io.shmkit.internal.RwLockLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ShmRwLock} with threads of one process, and forged dead owners. */
class ShmRwLockTest {

    private io.shmkit.segment.Segment segment;
    private MemorySegment mem;
    private ShmRwLock lock;
    private static final long DATA = 8192;

    @BeforeEach
    void setUp() {
        segment = io.shmkit.segment.Segment.create(io.shmkit.segment.SegmentName.posix(
                io.shmkit.testing.TestNames.unique("rwlock")), 1 << 16);
        mem = segment.memory().asSlice(segment.dataOffset(), 16384);
        lock = ShmRwLock.create(mem, 0, 8);
    }

    @AfterEach
    void tearDown() {
        segment.closeAndUnlink();
    }

    private static <T> CompletableFuture<T> async(Callable<T> c) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(c.call());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        t.setDaemon(true);
        t.start();
        return f;
    }

    @Test
    void sizeIsAMultipleOfACacheLine() {
        assertEquals(0, ShmRwLock.SIZE % 64);
        assertEquals(128 + 8 * 64, ShmRwLock.bytesNeeded(8));
        assertThrows(IllegalArgumentException.class, () -> ShmRwLock.bytesNeeded(0));
    }

    @Test
    void manyReadersAtOnce() throws Exception {
        assertEquals(LockResult.ACQUIRED, lock.readLock());
        assertEquals(LockResult.ACQUIRED, async(() -> {
            LockResult r = lock.readLock(1, TimeUnit.SECONDS);
            lock.readUnlock();
            return r;
        }).get(10, TimeUnit.SECONDS));
        assertEquals(LockResult.ACQUIRED, lock.tryReadLock());
        assertEquals(2, lock.readers());
        lock.readUnlock();
        lock.readUnlock();
        assertEquals(0, lock.readers());
    }

    @Test
    void writerExcludesReadersAndWriters() throws Exception {
        assertEquals(LockResult.ACQUIRED, lock.writeLock());
        assertTrue(lock.isWriteLockedByCurrentThread());
        assertEquals(LockResult.BUSY, async(lock::tryReadLock).get(10, TimeUnit.SECONDS));
        assertEquals(LockResult.BUSY, async(lock::tryWriteLock).get(10, TimeUnit.SECONDS));
        assertEquals(LockResult.TIMED_OUT, async(() -> lock.readLock(30, TimeUnit.MILLISECONDS)).get(10, TimeUnit.SECONDS));
        assertEquals(LockResult.TIMED_OUT, async(() -> lock.writeLock(30, TimeUnit.MILLISECONDS)).get(10, TimeUnit.SECONDS));
        CompletableFuture<LockResult> reader = async(() -> {
            LockResult r = lock.readLock();
            lock.readUnlock();
            return r;
        });
        Thread.sleep(50);
        assertFalse(reader.isDone());
        lock.writeUnlock();
        assertEquals(LockResult.ACQUIRED, reader.get(10, TimeUnit.SECONDS));
    }

    @Test
    void readersExcludeWriters() throws Exception {
        lock.readLock();
        assertEquals(LockResult.BUSY, async(lock::tryWriteLock).get(10, TimeUnit.SECONDS));
        CompletableFuture<LockResult> writer = async(() -> {
            LockResult r = lock.writeLock();
            lock.writeUnlock();
            return r;
        });
        Thread.sleep(50);
        assertFalse(writer.isDone());
        lock.readUnlock();
        assertEquals(LockResult.ACQUIRED, writer.get(10, TimeUnit.SECONDS));
    }

    @Test
    void waitingWriterKeepsNewReadersOut() throws Exception {
        lock.readLock();
        CountDownLatch writerHolds = new CountDownLatch(1);
        CompletableFuture<LockResult> writer = async(() -> {
            LockResult r = lock.writeLock();
            writerHolds.countDown();
            Thread.sleep(50);
            lock.writeUnlock();
            return r;
        });
        Thread.sleep(50); // the writer now waits for our read lock to go
        assertFalse(writer.isDone());
        assertEquals(LockResult.BUSY, async(lock::tryReadLock).get(10, TimeUnit.SECONDS));
        CompletableFuture<Long> lateReader = async(() -> {
            lock.readLock();
            long seenWriterDone = writerHolds.getCount();
            lock.readUnlock();
            return seenWriterDone;
        });
        Thread.sleep(30);
        assertFalse(lateReader.isDone(), "a new reader overtook a waiting writer");
        lock.readUnlock();
        assertEquals(LockResult.ACQUIRED, writer.get(10, TimeUnit.SECONDS));
        assertEquals(0L, lateReader.get(10, TimeUnit.SECONDS), "late reader ran before the writer");
    }

    @Test
    void misuseIsRejected() throws Exception {
        assertThrows(IllegalMonitorStateException.class, lock::readUnlock);
        assertThrows(IllegalMonitorStateException.class, lock::writeUnlock);
        lock.writeLock();
        Exception e = assertThrows(Exception.class, () -> async(() -> {
            lock.writeUnlock();
            return null;
        }).get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof IllegalMonitorStateException, String.valueOf(e));
        lock.writeUnlock();
        assertThrows(io.shmkit.SegmentCorruptedException.class, () -> ShmRwLock.open(mem, 4096));
    }

    @Test
    void openRefusesTheFormatsFromBeforeTheFormatField() {
        for (long old : new long[]{RwLockLayout.MAGIC_FORMAT_1, RwLockLayout.MAGIC_FORMAT_2}) {
            mem.set(ValueLayout.JAVA_LONG, 4096 + RwLockLayout.OFF_MAGIC, old);
            io.shmkit.UnsupportedFormatException e = assertThrows(io.shmkit.UnsupportedFormatException.class,
                    () -> ShmRwLock.open(mem, 4096));
            assertTrue(e.getMessage().contains("older format") && e.getMessage().contains(io.shmkit.internal.Formats.text(old)),
                    e.getMessage());
        }
    }

    @Test
    void staleWriterFlagWithoutAWriterDoesNotBlockReadersForever() {
        // a writer that died between announcing itself and taking the mutex
        mem.set(ValueLayout.JAVA_INT, RwLockLayout.OFF_WSTATE, RwLockLayout.WSTATE_WRITER);
        long t0 = System.nanoTime();
        assertEquals(LockResult.ACQUIRED, lock.readLock(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1));
        lock.readUnlock();
    }

    @Test
    void deadWriterIsReportedToReadersAndTheNextWriter() {
        // forge: writer flag set, writer mutex held by a garbage (lost) owner
        mem.set(ValueLayout.JAVA_INT, RwLockLayout.OFF_WSTATE, RwLockLayout.WSTATE_WRITER);
        mem.set(ValueLayout.JAVA_LONG, RwLockLayout.OFF_MUTEX + MutexLayout.OFF_WORD, Owners.WAITERS);
        assertEquals(LockResult.OWNER_DIED, lock.readLock(5, TimeUnit.SECONDS));
        lock.readUnlock();
        assertFalse(lock.isConsistent());
        assertEquals(LockResult.OWNER_DIED, lock.writeLock(5, TimeUnit.SECONDS));
        lock.markConsistent();
        lock.writeUnlock();
        assertEquals(LockResult.ACQUIRED, lock.readLock());
        lock.readUnlock();
        assertEquals(LockResult.ACQUIRED, lock.writeLock());
        lock.writeUnlock();
    }

    @Test
    void deadReaderSlotIsReclaimedByAWriter() throws Exception {
        // a registration that ended: attach slot 40 was never registered with generation 7
        long slot = RwLockLayout.slot(3);
        mem.set(ValueLayout.JAVA_LONG, slot + RwLockLayout.ReaderSlot.OFF_OWNER, ShmMutexTest.word(40, 7) >>> 32);
        mem.set(ValueLayout.JAVA_LONG, slot + RwLockLayout.ReaderSlot.OFF_COUNT, 2L);
        long t0 = System.nanoTime();
        assertEquals(LockResult.ACQUIRED, lock.writeLock(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1));
        lock.writeUnlock();
        assertEquals(0L, mem.get(ValueLayout.JAVA_LONG, slot + RwLockLayout.ReaderSlot.OFF_OWNER));
        assertEquals(0, lock.readers());
    }

    @Test
    void threadsNeverSeeAHalfWrittenPair() throws Exception {
        int writers = 2;
        int readers = 2;
        int perWriter = 50_000;
        AtomicLong torn = new AtomicLong();
        AtomicLong reads = new AtomicLong();
        AtomicLong writersDone = new AtomicLong();
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
            ts.add(new Thread(() -> {
                for (int k = 0; k < perWriter; k++) {
                    lock.writeLock();
                    try {
                        mem.set(ValueLayout.JAVA_LONG, DATA, mem.get(ValueLayout.JAVA_LONG, DATA) + 1);
                        Thread.onSpinWait();
                        mem.set(ValueLayout.JAVA_LONG, DATA + 8, mem.get(ValueLayout.JAVA_LONG, DATA + 8) + 1);
                    } finally {
                        lock.writeUnlock();
                    }
                }
                writersDone.incrementAndGet();
            }));
        }
        for (int i = 0; i < readers; i++) {
            ts.add(new Thread(() -> {
                while (writersDone.get() < writers) {
                    lock.readLock();
                    try {
                        long a = mem.get(ValueLayout.JAVA_LONG, DATA);
                        Thread.onSpinWait();
                        if (a != mem.get(ValueLayout.JAVA_LONG, DATA + 8)) {
                            torn.incrementAndGet();
                        }
                        reads.incrementAndGet();
                    } finally {
                        lock.readUnlock();
                    }
                }
            }));
        }
        ts.forEach(Thread::start);
        for (Thread t : ts) {
            t.join(120_000);
            assertFalse(t.isAlive());
        }
        assertEquals(0, torn.get());
        assertTrue(reads.get() > 0);
        assertEquals((long) writers * perWriter, mem.get(ValueLayout.JAVA_LONG, DATA));
        assertEquals((long) writers * perWriter, mem.get(ValueLayout.JAVA_LONG, DATA + 8));
        assertEquals(0, lock.readers());
    }
}
