package io.shmkit.cli;

import io.shmkit.segment.AttachedProcess;
import io.shmkit.segment.DirectoryEntry;
import io.shmkit.segment.SegmentInfo;

import java.util.List;

/** Minimal JSON output for the CLI's {@code --json} flags (no dependency needed). */
final class Json {

    private Json() {
    }

    static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    static String segment(SegmentInfo i) {
        StringBuilder b = new StringBuilder("{");
        b.append("\"name\":").append(str(i.name().toString()));
        b.append(",\"backend\":").append(str(i.name().backend().label()));
        b.append(",\"formatVersion\":").append(i.formatVersion());
        b.append(",\"kind\":").append(i.kind());
        b.append(",\"layoutHash\":").append(str("0x" + Long.toHexString(i.layoutHash())));
        b.append(",\"size\":").append(i.size());
        b.append(",\"backingSize\":").append(i.backingSize());
        b.append(",\"resizeGeneration\":").append(i.resizeGeneration());
        b.append(",\"creatorPid\":").append(i.creatorPid());
        b.append(",\"creatorStartTime\":").append(i.creatorStartTime());
        b.append(",\"createdAt\":").append(str(i.createdAt().toString()));
        b.append(",\"mode\":").append(str(String.format("%04o", i.mode())));
        b.append(",\"dataOffset\":").append(i.dataOffset());
        b.append(",\"reservedUpTo\":").append(i.carveTop());
        b.append(",\"attached\":").append(attached(i.attached()));
        b.append(",\"structures\":").append(directory(i.directory()));
        return b.append('}').toString();
    }

    private static String attached(List<AttachedProcess> list) {
        StringBuilder b = new StringBuilder("[");
        for (int k = 0; k < list.size(); k++) {
            AttachedProcess p = list.get(k);
            b.append(k == 0 ? "" : ",").append("{\"pid\":").append(p.pid()).append(",\"startTime\":").append(p.startTime())
                    .append(",\"alive\":").append(p.alive()).append(",\"liveness\":\"").append(p.liveness().label())
                    .append("\",\"slot\":").append(p.slot()).append(",\"pidNamespace\":").append(p.pidNamespace()).append('}');
        }
        return b.append(']').toString();
    }

    private static String directory(List<DirectoryEntry> list) {
        StringBuilder b = new StringBuilder("[");
        for (int k = 0; k < list.size(); k++) {
            DirectoryEntry e = list.get(k);
            b.append(k == 0 ? "" : ",").append("{\"name\":").append(str(e.name())).append(",\"kind\":").append(e.kind())
                    .append(",\"type\":").append(io.shmkit.alloc.StructureKind.of(e.kind())
                            .map(t -> str(t.label())).orElse("null"))
                    .append(",\"offset\":").append(e.offset()).append(",\"length\":").append(e.length()).append('}');
        }
        return b.append(']').toString();
    }
}
