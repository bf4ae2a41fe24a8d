package io.shmkit.segment;

import io.shmkit.testing.ChildJvm;
import io.shmkit.testing.TestNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Unrelated JVMs attach to one segment by name. */
class MultiProcessSegmentTest {

    private static final Duration T = Duration.ofSeconds(60);
    private final List<SegmentName> created = new ArrayList<>();

    private SegmentName posix(String tag) {
        SegmentName n = SegmentName.posix(TestNames.unique(tag));
        created.add(n);
        return n;
    }

    @AfterEach
    void cleanUp() {
        for (SegmentName n : created) {
            Segment.unlink(n);
        }
    }

    @Test
    void childWritesParentReads() throws Exception {
        for (SegmentName name : List.of(posix("mp"), track(SegmentName.sysv(TestNames.uniqueKey())))) {
            try (Segment s = Segment.create(name, 8192);
                 ChildJvm child = ChildJvm.start(SegmentChild.class, "write", name.toString(), "987654321")) {
                child.awaitLine("WROTE", T);
                assertThat(child.waitFor(T)).isZero();
                assertThat(s.memory().get(ValueLayout.JAVA_LONG, s.dataOffset())).isEqualTo(987654321L);
                assertThat(s.attached()).hasSize(1); // the child detached on close
            }
        }
    }

    private SegmentName track(SegmentName n) {
        created.add(n);
        return n;
    }

    @Test
    void childKilledWithSigkillLeavesTheSegmentIntactAndShowsAsDead() throws Exception {
        SegmentName name = posix("kill");
        try (Segment s = Segment.create(name, 8192)) {
            long childPid;
            try (ChildJvm child = ChildJvm.start(SegmentChild.class, "hold", name.toString())) {
                childPid = Long.parseLong(child.awaitLine("HOLDING", T).split("pid=")[1]);
                assertThat(s.attached()).anyMatch(p -> p.pid() == childPid && p.alive());
                child.kill9();
            }
            assertThat(s.memory().get(ValueLayout.JAVA_LONG, s.dataOffset() + 8)).isEqualTo(4242L);
            SegmentInfo info = Segments.inspect(name);
            assertThat(info.attached()).anyMatch(p -> p.pid() == childPid && !p.alive());
            assertThat(info.deadAttachments()).isEqualTo(1);
            assertThat(info.liveAttachments()).isEqualTo(1);
            // a new attacher may reuse the dead slot, and the segment still opens
            try (Segment again = Segment.open(name)) {
                assertThat(again.memory().get(ValueLayout.JAVA_LONG, again.dataOffset() + 8)).isEqualTo(4242L);
            }
        }
    }

    @Test
    void growthByAnotherProcessIsSeenOnNextAccess() throws Exception {
        SegmentName name = posix("mpgrow");
        try (Segment s = Segment.create(name, 8192);
             ChildJvm child = ChildJvm.start(SegmentChild.class, "grow", name.toString(), Long.toString(1 << 20))) {
            child.awaitLine("GREW", T);
            assertThat(child.waitFor(T)).isZero();
            assertThat(s.size()).isEqualTo(1 << 20);
            assertThat(s.memory().get(ValueLayout.JAVA_LONG, (1 << 20) - 8)).isEqualTo(31337L);
        }
    }

    @Test
    void racingCreatorsAgreeOnExactlyOneCreator() throws Exception {
        SegmentName name = posix("race");
        List<ChildJvm> children = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                children.add(ChildJvm.start(SegmentChild.class, "race", name.toString()));
            }
            int createdCount = 0;
            for (ChildJvm c : children) {
                String line = c.awaitLine("RACE", T);
                assertThat(line).contains("size=65536");
                if (line.contains("created=true")) {
                    createdCount++;
                }
                assertThat(c.waitFor(T)).isZero();
            }
            assertThat(createdCount).isEqualTo(1);
        } finally {
            for (ChildJvm c : children) {
                c.close();
            }
        }
    }

    @Test
    void aCreatorThatDiedBeforePublishingTheHeaderIsReportedNotAwaitedForever() throws Exception {
        SegmentName name = posix("halfmade");
        // what a creator killed between ftruncate and the magic store leaves behind
        java.nio.file.Files.write(name.path(), new byte[8192]);
        long t0 = System.nanoTime();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Segment.open(name))
                .isInstanceOf(io.shmkit.NotAShmkitSegmentException.class)
                .hasMessageContaining("never finished initialising");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    }
}
