package io.shmkit.fuzz;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The damage a fuzz case does to a range of an image, chosen by the fuzzer's bytes. Positions
 * are relative to the range (so coverage guidance finds the fields that matter without the
 * fuzzer knowing any layout); values come from a list of interesting ones.
 */
final class Damage {

    private Damage() {
    }

    /**
     * Applies 1 to 8 damage operations to {@code [from, from + span)} of {@code m}.
     *
     * @param size      the size of the whole mapping (offsets just outside it are interesting)
     * @param selfOwner the owner word of a lock held by the calling thread
     */
    static void apply(DamagedImageFuzzer.Ops o, MemorySegment m, long from, long span, long size, long selfOwner) {
        int count = 1 + o.u8() % 8;
        long words = Math.max(1, span / 8);
        for (int i = 0; i < count && span > 0 && (i == 0 || o.more()); i++) {
            int op = o.u8() % 7;
            long word = from + 8 * (o.intIn(0, (int) Math.min(Integer.MAX_VALUE, words - 1)));
            if (word + 8 > from + span || word + 8 > m.byteSize()) {
                word = from;
                if (word + 8 > m.byteSize()) {
                    continue;
                }
            }
            switch (op) {
                case 0 -> { // one bit
                    long at = from + o.intIn(0, (int) Math.min(Integer.MAX_VALUE, span - 1));
                    byte b = m.get(ValueLayout.JAVA_BYTE, at);
                    m.set(ValueLayout.JAVA_BYTE, at, (byte) (b ^ (1 << o.u8() % 8)));
                }
                case 1 -> m.set(ValueLayout.JAVA_LONG_UNALIGNED, word, interesting(o, m, from, word, size));
                case 2 -> { // a 32-bit half: counts, indices, links
                    long at = word + (o.bit() ? 4 : 0);
                    m.set(ValueLayout.JAVA_INT_UNALIGNED, at, (int) interesting(o, m, from, word, size));
                }
                case 3 -> { // swap two words (swapped fields)
                    long other = from + 8 * (o.intIn(0, (int) Math.min(Integer.MAX_VALUE, words - 1)));
                    if (other + 8 <= m.byteSize()) {
                        long a = m.get(ValueLayout.JAVA_LONG_UNALIGNED, word);
                        m.set(ValueLayout.JAVA_LONG_UNALIGNED, word, m.get(ValueLayout.JAVA_LONG_UNALIGNED, other));
                        m.set(ValueLayout.JAVA_LONG_UNALIGNED, other, a);
                    }
                }
                case 4 -> { // a run of bytes
                    int len = 1 + o.u8() % 24;
                    for (int k = 0; k < len && word + k < Math.min(from + span, m.byteSize()); k++) {
                        m.set(ValueLayout.JAVA_BYTE, word + k, (byte) o.u8());
                    }
                }
                case 5 -> { // a lock word naming the calling thread, a dead owner or a foreign one
                    long forged = switch (o.u8() % 4) {
                        case 0 -> selfOwner;
                        case 1 -> selfOwner ^ (1L << (32 + o.u8() % 31)); // another generation or slot: dead
                        case 2 -> ((long) (0x8000_0000 | (64 + o.u8() % 64) << 24 | 1) << 32) | 4; // a slot outside the table
                        default -> selfOwner | 3; // waiters, inconsistent
                    };
                    m.set(ValueLayout.JAVA_LONG_UNALIGNED, word, forged);
                }
                default -> { // a link to itself or to a neighbour: cycles in lists
                    long target = word + 8L * (o.u8() % 16 - 8);
                    long v = o.bit() ? target - from : target;
                    if (o.bit()) {
                        m.set(ValueLayout.JAVA_INT_UNALIGNED, word, (int) (v / (o.bit() ? 1 : 64)));
                    } else {
                        m.set(ValueLayout.JAVA_LONG_UNALIGNED, word, v);
                    }
                }
            }
        }
    }

    /** Values that break assumptions: extremes, offsets outside the mapping, into the header, self. */
    private static long interesting(DamagedImageFuzzer.Ops o, MemorySegment m, long from, long word, long size) {
        return switch (o.u8() % 12) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> Long.MIN_VALUE;
            case 3 -> Long.MAX_VALUE;
            case 4 -> size;
            case 5 -> size - 8 + o.u8();
            case 6 -> o.u8() * 8L; // into the segment header
            case 7 -> word - from; // this field's own offset in the structure
            case 8 -> from; // the structure's own start
            case 9 -> m.get(ValueLayout.JAVA_LONG_UNALIGNED, word) + (o.u8() - 128); // near the old value
            case 10 -> Integer.MAX_VALUE + (long) o.u8();
            default -> o.u64();
        };
    }
}
