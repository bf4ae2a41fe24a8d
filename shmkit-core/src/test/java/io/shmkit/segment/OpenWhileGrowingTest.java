package io.shmkit.segment;

import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Opening a segment while another attachment grows it (found by {@code shmkit torture}, issue
 * 13): {@code open} read the file size, mapped that much, then read the header's recorded size;
 * a grow landing in between made the header record more than was mapped, and {@code open}
 * reported the segment as truncated ({@code SegmentTruncatedException}) although nothing was cut.
 */
class OpenWhileGrowingTest {
    private final SegmentName name = SegmentName.posix(TestNames.unique("open-grow"));

    @AfterEach
    void remove() {
        Segment.unlink(name);
    }

    @Test
    void openNeverReportsAConcurrentGrowAsATruncation() throws Exception {
        try (Segment grower = Segment.create(name, Segment.MIN_SIZE)) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> growFailure = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    while (!stop.get() && grower.size() < (256L << 20)) {
                        grower.grow(grower.size() + Segment.PAGE_SIZE);
                    }
                } catch (Throwable e) {
                    growFailure.set(e);
                }
            });
            t.start();
            int opens = 0;
            try {
                long until = System.nanoTime() + 3_000_000_000L;
                while (System.nanoTime() < until && t.isAlive()) {
                    try (Segment s = Segment.open(name)) {
                        assertThat(s.size()).isGreaterThanOrEqualTo(Segment.MIN_SIZE);
                    }
                    opens++;
                }
            } finally {
                stop.set(true);
                t.join();
            }
            assertThat(growFailure.get()).isNull();
            assertThat(opens).isPositive();
        }
    }
}
