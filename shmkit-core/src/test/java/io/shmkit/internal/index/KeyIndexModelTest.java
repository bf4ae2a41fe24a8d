package io.shmkit.internal.index;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.UnsupportedFormatException;
import io.shmkit.internal.KeyIndexLayout;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntToLongFunction;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The key index against a {@code HashMap} model: random inserts, deletes (some interrupted as
 * if the writer died, then repaired), re-inserts and lookups, with well-spread and with
 * adversarial hashes (all keys on one home bucket and one tag); invariants checked after every
 * step. Plus exact capacity and lock-free readers racing a deleting writer.
 */
class KeyIndexModelTest {

    enum Hashing { SPREAD, SAME_HASH, THREE_TAGS, SAME_HOME }

    /** An index over entries that each hold an int key; entries come from a free stack. */
    static final class Harness {
        final Arena arena = Arena.ofConfined();
        final MemorySegment mem;
        final KeyIndex index;
        final int[] keyOf;
        final ArrayDeque<Integer> free = new ArrayDeque<>();
        final IntToLongFunction hash;

        Harness(int capacity, Hashing hashing) {
            long bytes = KeyIndex.bytesNeeded(capacity);
            mem = arena.allocate(bytes + 64, 64);
            index = KeyIndex.create(mem, 64, bytes, capacity, false);
            keyOf = new int[capacity];
            for (int e = capacity - 1; e >= 0; e--) {
                free.push(e);
            }
            long slots = index.slots();
            hash = switch (hashing) {
                case SPREAD -> k -> KeyHash.hashLong(42, k);
                case SAME_HASH -> k -> 0x1234_5678_0000_0000L;
                case THREE_TAGS -> k -> ((long) (k % 3) << 40) | 7L << 32;
                case SAME_HOME -> k -> (((long) k * slots) | 5) << 32; // distinct tags, one home bucket
            };
        }

        int find(int key) {
            return index.find(hash.applyAsLong(key), e -> keyOf[e] == key);
        }

        long findSlot(int key) {
            return index.findSlot(hash.applyAsLong(key), e -> keyOf[e] == key);
        }

        void verify() {
            index.verify(e -> hash.applyAsLong(keyOf[e]));
        }
    }

    @Provide
    Arbitrary<Hashing> hashings() {
        return Arbitraries.of(Hashing.class);
    }

    @Property(tries = 300)
    void randomOperationsMatchAHashMap(@ForAll @Size(max = 300) List<@IntRange(min = 0, max = 1 << 20) Integer> ops,
                                       @ForAll @IntRange(min = 1, max = 40) int capacity,
                                       @ForAll("hashings") Hashing hashing) {
        Harness h = new Harness(capacity, hashing);
        try (h.arena) {
            Map<Integer, Integer> model = new HashMap<>();
            int keys = capacity * 2;
            for (int op : ops) {
                int key = (op >>> 3) % keys;
                switch (op & 7) {
                    case 0, 1, 2 -> { // insert if absent
                        if (model.containsKey(key)) {
                            assertTrue(h.findSlot(key) >= 0);
                            break;
                        }
                        if (model.size() == capacity) {
                            assertEquals(-1, h.index.insert(h.hash.applyAsLong(key), 0), "insert into a full index");
                            break;
                        }
                        int e = h.free.pop();
                        h.keyOf[e] = key;
                        assertTrue(h.index.insert(h.hash.applyAsLong(key), e) >= 0, "refused with room left");
                        model.put(key, e);
                    }
                    case 3, 4 -> { // delete
                        long slot = h.findSlot(key);
                        Integer e = model.remove(key);
                        assertEquals(e != null, slot >= 0);
                        if (e != null) {
                            assertEquals(e, h.index.entryAt(slot));
                            h.index.removeAt(slot);
                            h.free.push(e);
                            h.keyOf[e] = -1;
                        }
                    }
                    case 5 -> { // delete interrupted after a few moves (writer died), then repaired
                        long slot = h.findSlot(key);
                        Integer e = model.remove(key);
                        if (e != null) {
                            h.index.removeAt(slot, (op >>> 3) % 4);
                            assertEquals(-1, h.findSlot(-1)); // probing still terminates
                            h.index.repair();
                            assertFalse(h.index.needsRepair());
                            h.free.push(e);
                            h.keyOf[e] = -1;
                        }
                    }
                    default -> {
                    }
                }
                h.verify();
                assertEquals(model.size(), h.index.size());
                for (int k = 0; k < keys; k++) {
                    Integer e = model.get(k);
                    assertEquals(e == null ? KeyIndex.NOT_FOUND : e, h.find(k), "key " + k);
                }
            }
        }
    }

    @Property(tries = 60)
    void holdsExactlyItsCapacityWhateverTheHashes(@ForAll @IntRange(min = 1, max = 300) int capacity,
                                                  @ForAll("hashings") Hashing hashing) {
        Harness h = new Harness(capacity, hashing);
        try (h.arena) {
            for (int k = 0; k < capacity; k++) {
                int e = h.free.pop();
                h.keyOf[e] = k;
                assertTrue(h.index.insert(h.hash.applyAsLong(k), e) >= 0, "key " + k + " of " + capacity);
            }
            assertEquals(-1, h.index.insert(h.hash.applyAsLong(capacity), 0), "the next new key is refused");
            h.verify();
            for (int k = 0; k < capacity; k++) {
                assertEquals(k, h.keyOf[h.find(k)]);
            }
            int victim = h.find(capacity / 2);
            h.index.removeAt(h.findSlot(capacity / 2));
            h.keyOf[victim] = capacity;
            assertTrue(h.index.insert(h.hash.applyAsLong(capacity), victim) >= 0, "deleting made room");
            h.verify();
            assertEquals(KeyIndex.NOT_FOUND, h.find(capacity / 2));
            assertEquals(capacity, h.keyOf[h.find(capacity)]);
        }
    }

    @Test
    void verifyNamesAnUnreachableEntryAndAForeignRangeIsRefused() {
        Harness h = new Harness(8, Hashing.SAME_HOME);
        try (h.arena) {
            for (int k = 0; k < 3; k++) {
                int e = h.free.pop();
                h.keyOf[e] = k;
                h.index.insert(h.hash.applyAsLong(k), e);
            }
            // damage: clear the first bucket of the cluster without shifting the others back
            long first = h.findSlot(0);
            h.mem.set(ValueLayout.JAVA_LONG, h.index.offset() + KeyIndexLayout.bucket(first), 0L);
            SegmentCorruptedException ex = assertThrows(SegmentCorruptedException.class, h::verify);
            assertTrue(ex.getMessage().contains("unreachable"), ex.getMessage());
            MemorySegment foreign = h.arena.allocate(4096, 64);
            foreign.fill((byte) 7);
            SegmentCorruptedException open = assertThrows(SegmentCorruptedException.class, () -> KeyIndex.open(foreign, 0, 4096));
            assertTrue(open.getMessage().contains("key index at offset=0: magic is"), open.getMessage());
        }
    }

    /** Format 1 (magic "SHMKIDX1", from before the Formats scheme) and another format number are refused as unsupported. */
    @Test
    void legacyMagicAndOtherFormatsAreRefused() {
        Harness h = new Harness(8, Hashing.SPREAD);
        try (h.arena) {
            long at = h.index.offset();
            h.mem.set(ValueLayout.JAVA_LONG, at + KeyIndexLayout.OFF_MAGIC, KeyIndexLayout.LEGACY_MAGIC_1);
            UnsupportedFormatException legacy = assertThrows(UnsupportedFormatException.class,
                    () -> KeyIndex.open(h.mem, at, h.mem.byteSize() - at));
            assertTrue(legacy.getMessage().contains("older format (magic 'SHMKIDX1')"), legacy.getMessage());
            h.mem.set(ValueLayout.JAVA_LONG, at + KeyIndexLayout.OFF_MAGIC, KeyIndexLayout.MAGIC);
            h.mem.set(ValueLayout.JAVA_INT, at + KeyIndexLayout.OFF_FORMAT, KeyIndexLayout.FORMAT + 1);
            UnsupportedFormatException newer = assertThrows(UnsupportedFormatException.class,
                    () -> KeyIndex.open(h.mem, at, h.mem.byteSize() - at));
            assertTrue(newer.getMessage().contains("written by a newer shmkit"), newer.getMessage());
        }
    }

    @Test
    void readersNeverMissAPresentKeyWhileAWriterDeletesAroundIt() throws Exception {
        int capacity = 64;
        try (Arena shared = Arena.ofShared()) {
            long bytes = KeyIndex.bytesNeeded(capacity);
            MemorySegment mem = shared.allocate(bytes, 64);
            KeyIndex index = KeyIndex.create(mem, 0, bytes, capacity, false);
            long slots = index.slots();
            // every key on the same home bucket: each delete shifts the words behind it
            IntToLongFunction hash = k -> (((long) k * slots) | 3) << 32;
            int[] keyOf = new int[capacity];
            java.util.Arrays.fill(keyOf, -1);
            int stable = 8; // keys 0..7 are present throughout, interleaved with churning keys
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong misses = new AtomicLong();
            AtomicLong lookups = new AtomicLong();
            Thread[] readers = new Thread[2];
            for (int t = 0; t < readers.length; t++) {
                readers[t] = new Thread(() -> {
                    while (!stop.get()) {
                        for (int k = 0; k < stable; k++) {
                            final int key = k;
                            int e = index.find(hash.applyAsLong(key), x -> keyOf[x] == key);
                            lookups.incrementAndGet();
                            if (e == KeyIndex.NOT_FOUND) {
                                misses.incrementAndGet();
                            }
                        }
                    }
                });
            }
            ArrayDeque<Integer> free = new ArrayDeque<>();
            for (int e = capacity - 1; e >= 0; e--) {
                free.push(e);
            }
            java.util.ArrayList<Integer> churn = new java.util.ArrayList<>();
            java.util.Random rnd = new java.util.Random(1);
            int next = stable;
            for (int k = 0; k < stable; k++) {
                int e = free.pop();
                keyOf[e] = k;
                index.insert(hash.applyAsLong(k), e);
                for (int c = 0; c < 3; c++) { // churning keys ahead of the next stable one in the cluster
                    int ce = free.pop();
                    keyOf[ce] = next;
                    index.insert(hash.applyAsLong(next), ce);
                    churn.add(next++);
                }
            }
            for (Thread r : readers) {
                r.start(); // after the stable keys are in
            }
            for (int i = 0; i < 20_000; i++) {
                int victim = churn.remove(rnd.nextInt(churn.size()));
                final int v = victim;
                long slot = index.findSlot(hash.applyAsLong(v), x -> keyOf[x] == v);
                int e = index.entryAt(slot);
                index.removeAt(slot);
                keyOf[e] = -1;
                final int fresh = next++;
                keyOf[e] = fresh; // reuse the entry for a new key, appended at the cluster's end
                index.insert(hash.applyAsLong(fresh), e);
                churn.add(fresh);
            }
            stop.set(true);
            for (Thread r : readers) {
                r.join();
            }
            assertEquals(0, misses.get(), "a present key was reported missing (of " + lookups.get() + " lookups)");
            assertTrue(lookups.get() > 0);
            index.verify(x -> hash.applyAsLong(keyOf[x]));
        }
    }
}
