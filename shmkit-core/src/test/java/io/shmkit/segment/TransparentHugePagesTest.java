package io.shmkit.segment;

import io.shmkit.segment.TransparentHugePages.Mount;
import io.shmkit.segment.TransparentHugePages.Verdict;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The huge-page policy decisions and the mount lookup, from given sysfs and mountinfo text. */
class TransparentHugePagesTest {

    private static final List<String> MOUNTINFO = List.of(
            "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro",
            "25 22 0:23 / /dev/shm rw,nosuid,nodev shared:4 - tmpfs tmpfs rw,size=1024k",
            "30 25 0:27 / /dev/shm rw,relatime shared:9 - tmpfs tmpfs rw,size=2048k,huge=within_size",
            "40 22 0:40 / /mnt/huge rw,relatime - tmpfs none rw,size=2097152k,huge=always",
            "41 22 0:41 / /mnt/huge\\040pages rw,relatime - tmpfs none rw,huge=advise",
            "42 22 0:42 / /mnt/hugefoo rw,relatime - xfs /dev/sdb rw",
            "not a mountinfo line");

    private static Mount tmpfs(String options) {
        return new Mount("/m", "tmpfs", options);
    }

    @Test
    void theMountIsTheLongestContainingMountPointAndTheLastOfStackedOnes() {
        assertThat(TransparentHugePages.mountOf(Path.of("/dev/shm"), MOUNTINFO))
                .isEqualTo(new Mount("/dev/shm", "tmpfs", "rw,size=2048k,huge=within_size"));
        assertThat(TransparentHugePages.mountOf(Path.of("/mnt/huge/a/b"), MOUNTINFO).type()).isEqualTo("tmpfs");
        assertThat(TransparentHugePages.mountOf(Path.of("/mnt/hugefoo"), MOUNTINFO).type()).isEqualTo("xfs");
        assertThat(TransparentHugePages.mountOf(Path.of("/mnt/huge pages"), MOUNTINFO).options()).contains("huge=advise");
        assertThat(TransparentHugePages.mountOf(Path.of("/home/x"), MOUNTINFO).point()).isEqualTo("/");
        assertThat(TransparentHugePages.mountOf(Path.of("/x"), List.of("garbage"))).isNull();
    }

    @Test
    void aTmpfsFileFollowsItsMountsHugeOption() {
        assertThat(TransparentHugePages.decideForMount(tmpfs("rw,huge=always"), "never", 8192, false).granted()).isTrue();
        assertThat(TransparentHugePages.decideForMount(tmpfs("rw,huge=within_size"), "never", 4L << 20, true).granted())
                .isTrue();
        Verdict small = TransparentHugePages.decideForMount(tmpfs("rw,huge=within_size"), "never", 1L << 20, true);
        assertThat(small.granted()).isFalse();
        assertThat(small.why()).contains("smaller than one 2 MiB page");
        assertThat(TransparentHugePages.decideForMount(tmpfs("rw,huge=advise"), "never", 8192, true).granted()).isTrue();
        assertThat(TransparentHugePages.decideForMount(tmpfs("rw,huge=advise"), "never", 8192, false).granted()).isFalse();
        // no huge= option is huge=never, whatever shmem_enabled says for the internal mount
        Verdict never = TransparentHugePages.decideForMount(tmpfs("rw,size=1024k"), "always", 8L << 20, true);
        assertThat(never.granted()).isFalse();
        assertThat(never.why()).contains("/m is mounted huge=never").contains("remount it with huge=within_size");
    }

    @Test
    void shmemEnabledDenyAndForceOverrideEveryTmpfs() {
        Verdict deny = TransparentHugePages.decideForMount(tmpfs("rw,huge=always"), "deny", 8L << 20, true);
        assertThat(deny.granted()).isFalse();
        assertThat(deny.why()).contains("deny");
        assertThat(TransparentHugePages.decideForMount(tmpfs("rw"), "force", 8192, false).granted()).isTrue();
    }

    @Test
    void filesOnOtherFileSystemsAreNotPromisedHugePages() {
        Verdict v = TransparentHugePages.decideForMount(new Mount("/data", "ext4", "rw"), "force", 8L << 20, true);
        assertThat(v.granted()).isFalse();
        assertThat(v.why()).contains("/data is ext4, not tmpfs");
    }

    @Test
    void sharedAnonymousMemoryFollowsShmemEnabledAndFailsClosedWhenUnreadable() {
        Path knob = TransparentHugePages.SHMEM_ENABLED;
        assertThat(TransparentHugePages.decideForInternal("always", knob, false).granted()).isTrue();
        assertThat(TransparentHugePages.decideForInternal("within_size", knob, false).granted()).isTrue();
        assertThat(TransparentHugePages.decideForInternal("force", knob, false).granted()).isTrue();
        assertThat(TransparentHugePages.decideForInternal("advise", knob, true).granted()).isTrue();
        assertThat(TransparentHugePages.decideForInternal("advise", knob, false).granted()).isFalse();
        assertThat(TransparentHugePages.decideForInternal("never", knob, true).granted()).isFalse();
        assertThat(TransparentHugePages.decideForInternal("deny", knob, true).granted()).isFalse();
        Verdict unreadable = TransparentHugePages.decideForInternal(null, knob, true);
        assertThat(unreadable.granted()).isFalse();
        assertThat(unreadable.why()).contains("cannot read").contains("shmem_enabled");
    }

    @Test
    void theSelectedChoiceIsTheBracketedOne() {
        assertThat(TransparentHugePages.selected("always within_size advise [never] deny force\n")).isEqualTo("never");
        assertThat(TransparentHugePages.selected("[always] madvise never")).isEqualTo("always");
        assertThat(TransparentHugePages.selected("no brackets")).isNull();
        assertThat(TransparentHugePages.read(Path.of("/nonexistent/knob"))).isNull();
    }
}
