package io.shmkit.cli;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.LockSupport;

/**
 * The demo's two one-slot mailboxes in a segment's data area. Each side publishes a message by
 * writing its bytes and then storing a new sequence number with release; the other side polls
 * the sequence with acquire and so sees the complete message.
 *
 * <pre>
 * base+0    requestSeq  u64   (own 64-byte line)
 * base+64   replySeq    u64   (own 64-byte line)
 * base+128  requestLen  u32, request bytes [120]
 * base+256  replyLen    u32, reply bytes   [120]
 * base+384  end
 * </pre>
 */
final class DemoMailbox {

    static final long REQUEST_SEQ = 0;
    static final long REPLY_SEQ = 64;
    static final long REQUEST = 128;
    static final long REPLY = 256;
    static final int MAX_TEXT = 120;
    static final long SIZE = 384;

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final MemorySegment m;
    private final long base;

    DemoMailbox(MemorySegment memory, long base) {
        this.m = memory;
        this.base = base;
    }

    void send(boolean request, long seq, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int len = Math.min(b.length, MAX_TEXT);
        long at = base + (request ? REQUEST : REPLY);
        m.set(ValueLayout.JAVA_INT, at, len);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, at + 4, len);
        // release: the text above is visible to whoever reads this sequence with acquire
        LONG.setRelease(m, base + (request ? REQUEST_SEQ : REPLY_SEQ), seq);
    }

    /** Waits until the given mailbox holds sequence {@code seq} (or later); returns its text. */
    String await(boolean request, long seq, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        long at = base + (request ? REQUEST_SEQ : REPLY_SEQ);
        for (int spins = 0; ; spins++) {
            // acquire: pairs with the release in send()
            if ((long) LONG.getAcquire(m, at) >= seq) {
                return text(request);
            }
            if (spins > 20_000) {
                LockSupport.parkNanos(20_000);
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("demo peer did not answer within " + timeoutNanos / 1_000_000 + " ms");
                }
            } else {
                Thread.onSpinWait();
            }
        }
    }

    private String text(boolean request) {
        long at = base + (request ? REQUEST : REPLY);
        int len = Math.min(m.get(ValueLayout.JAVA_INT, at), MAX_TEXT);
        byte[] b = new byte[Math.max(0, len)];
        MemorySegment.copy(m, ValueLayout.JAVA_BYTE, at + 4, b, 0, b.length);
        return new String(b, StandardCharsets.UTF_8);
    }
}
