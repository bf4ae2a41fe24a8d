package io.shmkit.internal;

import io.shmkit.SegmentCorruptedException;
import io.shmkit.UnsupportedFormatException;

import java.lang.foreign.MemorySegment;

/**
 * The one version scheme of shmkit's binary layouts: every structure has a <em>magic</em>, eight
 * ASCII bytes naming its kind that never change between formats, and a <em>format</em> version
 * (u32) that is raised whenever the bytes mean something new. The creator writes every field and
 * the format, then {@link #publish}es the magic last with a release store; an opener
 * {@link #check}s the magic with an acquire load and then the format.
 *
 * <p>Before this scheme, some structures put a version digit into their magic; those magics are
 * passed as {@code legacy} values and refused with a message naming the old format, never
 * misread as "not a structure".
 *
 * <p>Each layout descriptor ({@code *Layout} in this package) declares {@code MAGIC},
 * {@code FORMAT}, {@code OFF_MAGIC} and {@code OFF_FORMAT}; this class is the only code that
 * interprets them.
 */
public final class Formats {

    private Formats() {
    }

    /** Builds a magic from exactly eight ASCII characters, first character in the lowest byte. */
    public static long magic(String eightAscii) {
        if (eightAscii.length() != 8) {
            throw new IllegalArgumentException("a magic is 8 ASCII characters: '" + eightAscii + "'");
        }
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            char c = eightAscii.charAt(i);
            if (c > 0x7e || c < 0x20) {
                throw new IllegalArgumentException("a magic is 8 printable ASCII characters: '" + eightAscii + "'");
            }
            v = (v << 8) | c;
        }
        return v;
    }

    /** The magic as text, non-printable bytes as {@code \xNN}, for messages. */
    public static String text(long magic) {
        StringBuilder sb = new StringBuilder(8);
        for (int i = 0; i < 8; i++) {
            int c = (int) (magic >>> (8 * i)) & 0xff;
            if (c >= 0x20 && c <= 0x7e) {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.toString();
    }

    /** Stores the format (plain), then the magic with release: the structure is published. */
    public static void publish(MemorySegment m, long magicAt, long magic, long formatAt, int format) {
        Mem.setInt(m, formatAt, format);
        Mem.setLongRelease(m, magicAt, magic);
    }

    /** Whether the magic is already stored (acquire; pairs with {@link #publish}). */
    public static boolean published(MemorySegment m, long magicAt) {
        return Mem.getLongAcquire(m, magicAt) != 0;
    }

    /**
     * Checks a published structure: its magic (acquire), then its format.
     *
     * @param what   the structure, for messages, e.g. {@code "FixedPool 'sessions' at offset 4096"}
     * @param legacy magics of formats from before this scheme, each refused as unsupported
     * @throws UnsupportedFormatException if the magic is a legacy one or the format differs
     * @throws SegmentCorruptedException  if the magic is neither this kind's nor a legacy one
     */
    public static void check(MemorySegment m, long magicAt, long magic, long formatAt, int format, String what,
                             long... legacy) {
        long found = Mem.getLongAcquire(m, magicAt);
        if (found != magic) {
            for (long old : legacy) {
                if (found == old) {
                    throw new UnsupportedFormatException(what + " has an older format (magic '" + text(found)
                            + "'), this shmkit reads '" + text(magic) + "' format " + format + "; recreate it");
                }
            }
            throw new SegmentCorruptedException(what + ": magic is '" + text(found) + "' (0x"
                    + Long.toHexString(found) + "), expected '" + text(magic) + "'");
        }
        int f = Mem.getInt(m, formatAt);
        if (f != format) {
            throw new UnsupportedFormatException(what + " has format " + Integer.toUnsignedString(f) + ", this shmkit reads"
                    + " format " + format + (Integer.compareUnsigned(f, format) > 0 ? " (written by a newer shmkit)"
                    : "; recreate it"));
        }
    }
}
