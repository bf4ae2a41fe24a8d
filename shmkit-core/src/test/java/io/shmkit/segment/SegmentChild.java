package io.shmkit.segment;

import java.lang.foreign.ValueLayout;

/** Child JVM for multi-process segment tests. Commands: open NAME | write NAME VALUE | hold NAME | grow NAME SIZE. */
public final class SegmentChild {

    private SegmentChild() {
    }

    public static void main(String[] args) throws Exception {
        SegmentName name = SegmentName.parse(args[1]);
        switch (args[0]) {
            case "open" -> {
                try (Segment s = Segment.open(name)) {
                    System.out.println("RESULT opened size=" + s.size());
                } catch (RuntimeException e) {
                    System.out.println("RESULT " + e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            }
            case "write" -> {
                try (Segment s = Segment.open(name)) {
                    s.memory().set(ValueLayout.JAVA_LONG, s.dataOffset(), Long.parseLong(args[2]));
                    System.out.println("WROTE");
                }
            }
            case "hold" -> {
                Segment s = Segment.open(name);
                s.memory().set(ValueLayout.JAVA_LONG, s.dataOffset() + 8, 4242L);
                System.out.println("HOLDING pid=" + ProcessHandle.current().pid());
                Thread.sleep(600_000); // until killed
            }
            case "grow" -> {
                try (Segment s = Segment.open(name)) {
                    s.grow(Long.parseLong(args[2]));
                    s.memory().set(ValueLayout.JAVA_LONG, s.size() - 8, 31337L);
                    System.out.println("GREW size=" + s.size());
                }
            }
            case "race" -> {
                try (Segment s = Segment.openOrCreate(name, 65536, SegmentOptions.defaults())) {
                    System.out.println("RACE created=" + s.created() + " size=" + s.size());
                }
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
        System.out.flush();
    }
}
