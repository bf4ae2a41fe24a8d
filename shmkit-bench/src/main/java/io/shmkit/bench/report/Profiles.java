package io.shmkit.bench.report;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Summarises a JFR recording the way {@code jfr print --events jdk.ExecutionSample} would be
 * read by hand: samples counted by top frame, and by the innermost {@code io.shmkit} frame
 * (excluding the benchmark harness itself).
 */
final class Profiles {

    static final int TOP = 8;

    private Profiles() {
    }

    /** The first {@code .jfr} file under {@code dir}, or null. */
    static Path find(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".jfr")).findFirst().orElse(null);
        }
    }

    static Map<String, Object> summarise(String benchmark, Path jfr) throws IOException {
        Map<String, Integer> top = new HashMap<>();
        Map<String, Integer> lib = new HashMap<>();
        int samples = 0;
        int nativeSamples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
            String type = e.getEventType().getName();
            if (type.equals("jdk.NativeMethodSample")) {
                nativeSamples++;
                continue;
            }
            if (!type.equals("jdk.ExecutionSample") || e.getStackTrace() == null) {
                continue;
            }
            List<RecordedFrame> frames = e.getStackTrace().getFrames();
            if (frames.isEmpty()) {
                continue;
            }
            samples++;
            top.merge(name(frames.getFirst().getMethod()), 1, Integer::sum);
            for (RecordedFrame f : frames) {
                String n = name(f.getMethod());
                if (n.startsWith("io.shmkit.") && !n.startsWith("io.shmkit.bench.")) {
                    lib.merge(n, 1, Integer::sum);
                    break;
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("benchmark", benchmark);
        out.put("samples", (double) samples);
        out.put("nativeSamples", (double) nativeSamples);
        out.put("top", ranked(top, samples));
        out.put("shmkit", ranked(lib, samples));
        return out;
    }

    private static List<Object> ranked(Map<String, Integer> counts, int total) {
        List<Object> out = new ArrayList<>();
        counts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(TOP).forEach(en -> {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("frame", en.getKey());
            f.put("count", (double) en.getValue());
            f.put("percent", total == 0 ? 0.0 : 100.0 * en.getValue() / total);
            out.add(f);
        });
        return out;
    }

    private static String name(RecordedMethod m) {
        if (m == null) {
            return "?";
        }
        String t = m.getType() == null ? "?" : m.getType().getName();
        return t + "." + m.getName();
    }
}
