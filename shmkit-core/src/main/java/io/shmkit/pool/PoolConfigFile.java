package io.shmkit.pool;

import io.shmkit.internal.PoolBaseLayout;
import io.shmkit.segment.SegmentName;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A {@code memorypool.ini} in the seed's shape: a {@code ProcessList} naming the server
 * processes, and one section per process with its {@code BaseKey}, {@code BlockSize} and
 * {@code ShmKey} list (repeated lines or a comma list). Keys are System V keys (decimal or
 * {@code 0x} hex) or POSIX names ({@code posix:NAME}, or a name that is not a number);
 * {@code sysv:KEY} is accepted too. Sizes may end in {@code K}, {@code M} or {@code G}.
 *
 * {@snippet lang=ini :
 * ProcessList = zone, logic
 *
 * [zone]
 * BaseKey   = 0x5a000001
 * BlockSize = 64M
 * ShmKey    = 0x5a000002, 0x5a000003
 * UndoLogSize = 1M          ; optional, default 1 MiB
 * }
 *
 * <p>Loading checks the whole file: a malformed line fails with file, line and the problem; a
 * key claimed by two processes fails naming the key and both processes; a process in the list
 * without a section fails. Loading touches no shared memory.
 */
public final class PoolConfigFile {

    private final Path file;
    private final Map<String, PoolConfig> processes;

    private PoolConfigFile(Path file, Map<String, PoolConfig> processes) {
        this.file = file;
        this.processes = processes;
    }

    /** Reads and validates {@code file}. */
    public static PoolConfigFile load(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PoolConfigException(file + ": cannot read: " + e.getMessage());
        }
        return parse(file, lines);
    }

    /** Parses the text of a file; {@code file} names it in messages. */
    public static PoolConfigFile parse(Path file, List<String> lines) {
        return new Parser(file).run(lines);
    }

    /** The process names of {@code ProcessList}, in order. */
    public List<String> processNames() {
        return List.copyOf(processes.keySet());
    }

    /** The configuration of process {@code name}. */
    public PoolConfig process(String name) {
        PoolConfig c = processes.get(name);
        if (c == null) {
            throw new PoolConfigException(file + ": no process '" + name + "' (ProcessList: "
                    + String.join(", ", processes.keySet()) + ")");
        }
        return c;
    }

    public Path file() {
        return file;
    }

    private static final class Section {
        final String name;
        final int line;
        String baseKey;
        int baseLine;
        Long blockSize;
        long undo = PoolBaseLayout.DEFAULT_UNDO_BYTES;
        final List<SegmentName> keys = new ArrayList<>();
        final List<Integer> keyLines = new ArrayList<>();

        Section(String name, int line) {
            this.name = name;
            this.line = line;
        }
    }

    private static final class Parser {
        private final Path file;
        private final Map<String, Section> sections = new LinkedHashMap<>();
        private List<String> processList;
        private int processListLine;

        Parser(Path file) {
            this.file = file;
        }

        PoolConfigFile run(List<String> lines) {
            Section current = null;
            for (int i = 0; i < lines.size(); i++) {
                int no = i + 1;
                String line = stripComment(lines.get(i)).strip();
                if (line.isEmpty()) {
                    continue;
                }
                if (line.startsWith("[")) {
                    if (!line.endsWith("]") || line.length() < 3) {
                        throw error(no, "malformed section header '" + line + "' (expected [name])");
                    }
                    String name = line.substring(1, line.length() - 1).strip();
                    if (sections.containsKey(name)) {
                        throw error(no, "section [" + name + "] appears twice (first at line " + sections.get(name).line + ")");
                    }
                    current = new Section(name, no);
                    sections.put(name, current);
                    continue;
                }
                int eq = line.indexOf('=');
                if (eq <= 0) {
                    throw error(no, "expected 'Name = value', found '" + line + "'");
                }
                String key = line.substring(0, eq).strip();
                String value = line.substring(eq + 1).strip();
                if (value.isEmpty()) {
                    throw error(no, key + " has no value");
                }
                if (key.equalsIgnoreCase("ProcessList") && (current == null || current.name.equalsIgnoreCase("global"))) {
                    if (processList != null) {
                        throw error(no, "ProcessList given twice (first at line " + processListLine + ")");
                    }
                    processList = splitList(value);
                    processListLine = no;
                    continue;
                }
                if (current == null) {
                    throw error(no, "'" + key + "' outside a process section (only ProcessList may come first)");
                }
                switch (key.toLowerCase(Locale.ROOT)) {
                    case "basekey" -> {
                        if (current.baseKey != null) {
                            throw error(no, "BaseKey given twice in [" + current.name + "] (first at line " + current.baseLine + ")");
                        }
                        current.baseKey = value;
                        current.baseLine = no;
                        keyOf(value, no);
                    }
                    case "blocksize" -> current.blockSize = size(value, no, "BlockSize");
                    case "undologsize" -> current.undo = size(value, no, "UndoLogSize");
                    case "shmkey" -> {
                        for (String k : splitList(value)) {
                            current.keys.add(keyOf(k, no));
                            current.keyLines.add(no);
                        }
                    }
                    default -> throw error(no, "unknown setting '" + key + "' in [" + current.name
                            + "] (expected BaseKey, BlockSize, ShmKey or UndoLogSize)");
                }
            }
            return build();
        }

        private PoolConfigFile build() {
            if (processList == null) {
                throw new PoolConfigException(file + ": no ProcessList");
            }
            Map<SegmentName, String> claimedBy = new LinkedHashMap<>();
            Map<SegmentName, Integer> claimedAt = new LinkedHashMap<>();
            Map<String, PoolConfig> out = new LinkedHashMap<>();
            for (String p : processList) {
                Section s = sections.get(p);
                if (s == null) {
                    throw error(processListLine, "process '" + p + "' is in ProcessList but has no [" + p + "] section");
                }
                if (s.baseKey == null) {
                    throw error(s.line, "section [" + p + "] has no BaseKey");
                }
                if (s.blockSize == null) {
                    throw error(s.line, "section [" + p + "] has no BlockSize");
                }
                List<SegmentName> all = new ArrayList<>();
                List<Integer> at = new ArrayList<>();
                all.add(keyOf(s.baseKey, s.baseLine));
                at.add(s.baseLine);
                all.addAll(s.keys);
                at.addAll(s.keyLines);
                for (int i = 0; i < all.size(); i++) {
                    SegmentName k = all.get(i);
                    String other = claimedBy.putIfAbsent(k, p);
                    if (other != null) {
                        throw error(at.get(i), "key " + k + " is claimed by process '" + other + "' (line "
                                + claimedAt.get(k) + ") and by process '" + p + "'");
                    }
                    claimedAt.put(k, at.get(i));
                }
                try {
                    out.put(p, new PoolConfig(p, all.get(0), s.blockSize, s.keys, s.undo));
                } catch (PoolConfigException e) {
                    throw error(s.line, e.getMessage());
                }
            }
            return new PoolConfigFile(file, out);
        }

        private SegmentName keyOf(String text, int line) {
            try {
                String t = text.strip();
                if (t.startsWith("posix:") || t.startsWith("sysv:")) {
                    return SegmentName.parse(t);
                }
                if (t.matches("-?[0-9]+|0[xX][0-9a-fA-F]+")) {
                    return SegmentName.parse("sysv:" + t);
                }
                if (t.contains(":")) {
                    throw new IllegalArgumentException("unsupported key '" + t + "' (a System V key, posix:NAME or sysv:KEY)");
                }
                return SegmentName.posix(t);
            } catch (IllegalArgumentException e) {
                throw error(line, e.getMessage());
            }
        }

        private long size(String value, int line, String what) {
            String v = value.strip().toUpperCase(Locale.ROOT);
            long unit = 1;
            if (v.endsWith("K") || v.endsWith("M") || v.endsWith("G")) {
                unit = switch (v.charAt(v.length() - 1)) {
                    case 'K' -> 1L << 10;
                    case 'M' -> 1L << 20;
                    default -> 1L << 30;
                };
                v = v.substring(0, v.length() - 1).strip();
            }
            try {
                long n = Long.parseLong(v);
                if (n <= 0) {
                    throw error(line, what + "=" + value + " must be positive");
                }
                return Math.multiplyExact(n, unit);
            } catch (NumberFormatException | ArithmeticException e) {
                throw error(line, what + "='" + value + "' is not a size (bytes, or a number with K, M or G)");
            }
        }

        private PoolConfigException error(int line, String problem) {
            return new PoolConfigException(file + ":" + line + ": " + problem);
        }

        private static String stripComment(String line) {
            int cut = line.length();
            for (char c : new char[]{'#', ';'}) {
                int i = line.indexOf(c);
                if (i >= 0 && i < cut) {
                    cut = i;
                }
            }
            return line.substring(0, cut);
        }

        private static List<String> splitList(String value) {
            List<String> out = new ArrayList<>();
            for (String s : value.split("[,\\s]+")) {
                if (!s.isBlank()) {
                    out.add(s.strip());
                }
            }
            return out;
        }
    }
}
