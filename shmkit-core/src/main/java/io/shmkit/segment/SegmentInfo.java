package io.shmkit.segment;

import java.time.Instant;
import java.util.List;

/**
 * Every field of a segment's header, as read at one moment, plus what the operating system
 * says about the backing object.
 */
public record SegmentInfo(SegmentName name, int formatVersion, int kind, long layoutHash, long size,
                          long backingSize, long resizeGeneration, long creatorPid, long creatorStartTime,
                          Instant createdAt, int mode, long dataOffset, long carveTop,
                          List<AttachedProcess> attached, List<DirectoryEntry> directory) {

    /** Number of attached processes that still run. */
    public long liveAttachments() {
        return attached.stream().filter(AttachedProcess::alive).count();
    }

    /** Number of attach-table entries whose process is gone (killed without detaching). */
    public long deadAttachments() {
        return attached.stream().filter(a -> !a.alive()).count();
    }
}
