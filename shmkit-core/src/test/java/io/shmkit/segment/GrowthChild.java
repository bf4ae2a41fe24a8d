package io.shmkit.segment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child JVM for the growth tests. Commands:
 * {@code grow NAME COUNT STEP} grows COUNT times by STEP bytes, then prints its mapping count;
 * {@code watch NAME SIZE} calls {@code memory()} until the segment reaches SIZE, then prints how
 * many grows it noticed and its mapping count.
 */
public final class GrowthChild {

    private GrowthChild() {
    }

    /** Lines of this process's /proc/self/maps that name the segment's file. */
    static long mappingsOf(SegmentName name) throws IOException {
        String path = name.path().toString();
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(l -> l.endsWith(" " + path) || l.endsWith(" " + path + " (deleted)")).count();
        }
    }

    public static void main(String[] args) throws Exception {
        SegmentName name = SegmentName.parse(args[1]);
        try (Segment s = Segment.open(name)) {
            switch (args[0]) {
                case "grow" -> {
                    int count = Integer.parseInt(args[2]);
                    long step = Long.parseLong(args[3]);
                    System.out.println("STARTED");
                    long t0 = System.nanoTime();
                    long maxMaps = 0;
                    for (int i = 0; i < count; i++) {
                        s.grow(s.size() + step);
                        s.memory().set(java.lang.foreign.ValueLayout.JAVA_LONG, s.size() - 8, i);
                        if (i % 1000 == 0) {
                            maxMaps = Math.max(maxMaps, mappingsOf(name));
                        }
                    }
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    System.out.println("GREW size=" + s.size() + " ms=" + ms + " maps=" + Math.max(maxMaps, mappingsOf(name)));
                }
                case "watch" -> {
                    long target = Long.parseLong(args[2]);
                    long noticed = 0;
                    long last = s.size();
                    long maxMaps = mappingsOf(name);
                    System.out.println("WATCHING size=" + last);
                    while (last < target) {
                        long size = s.memory().byteSize();
                        if (size != last) {
                            noticed++;
                            last = size;
                            if (noticed % 500 == 0) {
                                maxMaps = Math.max(maxMaps, mappingsOf(name));
                            }
                        }
                    }
                    System.out.println("WATCHED noticed=" + noticed + " maps=" + Math.max(maxMaps, mappingsOf(name)));
                }
                default -> throw new IllegalArgumentException(args[0]);
            }
        } catch (RuntimeException | Error e) {
            // the line the parent waits for, so a failure is reported at once, not after its timeout
            System.out.println((args[0].equals("grow") ? "GREW" : "WATCHED") + " FAILED " + e);
        }
        System.out.flush();
    }
}
