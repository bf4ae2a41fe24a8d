package io.shmkit.segment;

import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The identity of a segment: a backend plus the backend's own name for it. Names are validated
 * before anything touches the file system.
 *
 * <ul>
 *   <li>{@code posix}: 1..200 characters from {@code [A-Za-z0-9._@+-]}, not starting with a dot,
 *       no {@code ..}; lives at {@code /dev/shm/NAME}.</li>
 *   <li>{@code file}: any path without NUL characters.</li>
 *   <li>{@code sysv}: a non-zero 32-bit key ({@code IPC_PRIVATE} is 0 and cannot be shared).</li>
 *   <li>{@code anonymous}: no name; the value is a label for messages only.</li>
 * </ul>
 *
 * <p>The text form, accepted by {@link #parse(String)} and printed by {@link #toString()}, is
 * {@code NAME} or {@code posix:NAME}, {@code file:PATH}, {@code sysv:KEY} (decimal or
 * {@code 0x} hex) and {@code anonymous}.
 */
public record SegmentName(Backend backend, String value) {

    public static final int MAX_POSIX_NAME = 200;
    private static final Pattern POSIX_NAME = Pattern.compile("[A-Za-z0-9._@+-]+");
    private static final String SHM_DIR = "/dev/shm";

    public SegmentName {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(value, "value");
        switch (backend) {
            case POSIX -> validatePosix(value);
            case FILE -> {
                if (value.isEmpty() || value.indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("invalid file path: path='" + printable(value)
                            + "' (must be non-empty and contain no NUL)");
                }
            }
            case SYSV -> {
                int key = parseKey(value);
                if (key == 0) {
                    throw new IllegalArgumentException("invalid System V key: key=0 (IPC_PRIVATE cannot be shared)");
                }
                value = Integer.toString(key);
            }
            case ANONYMOUS -> {
            }
        }
    }

    /** A POSIX shared memory segment, {@code /dev/shm/NAME}. */
    public static SegmentName posix(String name) {
        return new SegmentName(Backend.POSIX, name);
    }

    /** A file-backed segment. */
    public static SegmentName file(Path path) {
        return new SegmentName(Backend.FILE, path.toAbsolutePath().normalize().toString());
    }

    /** A System V segment with the given key. */
    public static SegmentName sysv(int key) {
        return new SegmentName(Backend.SYSV, Integer.toString(key));
    }

    /** An anonymous segment private to this process. */
    public static SegmentName anonymous() {
        return new SegmentName(Backend.ANONYMOUS, "anonymous");
    }

    /** Parses the text form described in the class comment. */
    public static SegmentName parse(String text) {
        Objects.requireNonNull(text, "text");
        int colon = text.indexOf(':');
        if (text.equals("anonymous")) {
            return anonymous();
        }
        if (colon < 0) {
            return posix(text);
        }
        String prefix = text.substring(0, colon);
        String rest = text.substring(colon + 1);
        return switch (prefix) {
            case "posix" -> posix(rest);
            case "file" -> file(Path.of(rest));
            case "sysv" -> new SegmentName(Backend.SYSV, rest);
            default -> throw new IllegalArgumentException("unknown backend prefix: prefix='" + printable(prefix)
                    + "' (expected posix:, file:, sysv: or a plain POSIX name)");
        };
    }

    /** The System V key; only for {@link Backend#SYSV}. */
    public int key() {
        if (backend != Backend.SYSV) {
            throw new IllegalStateException("not a System V name: " + this);
        }
        return Integer.parseInt(value);
    }

    /** The file system path of a POSIX or file segment. */
    public Path path() {
        return switch (backend) {
            case POSIX -> Path.of(SHM_DIR, value);
            case FILE -> Path.of(value);
            default -> throw new IllegalStateException("backend=" + backend.label() + " has no path: " + this);
        };
    }

    @Override
    public String toString() {
        return switch (backend) {
            case POSIX -> "posix:" + value;
            case FILE -> "file:" + value;
            case SYSV -> "sysv:0x" + Integer.toHexString(Integer.parseInt(value));
            case ANONYMOUS -> "anonymous";
        };
    }

    private static void validatePosix(String name) {
        if (name.isEmpty() || name.length() > MAX_POSIX_NAME) {
            throw new IllegalArgumentException("invalid segment name: length=" + name.length()
                    + " (must be 1.." + MAX_POSIX_NAME + ")");
        }
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("invalid segment name: contains NUL: name='" + printable(name) + "'");
        }
        if (name.indexOf('/') >= 0) {
            throw new IllegalArgumentException("invalid segment name: contains '/': name='" + printable(name) + "'");
        }
        if (name.contains("..") || name.startsWith(".")) {
            throw new IllegalArgumentException("invalid segment name: must not start with '.' or contain '..': name='"
                    + printable(name) + "'");
        }
        if (!POSIX_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid segment name: name='" + printable(name)
                    + "' (allowed characters: A-Z a-z 0-9 . _ @ + -)");
        }
    }

    private static int parseKey(String s) {
        try {
            String t = s.trim();
            if (t.startsWith("0x") || t.startsWith("0X")) {
                return (int) Long.parseLong(t.substring(2), 16);
            }
            long v = Long.parseLong(t);
            if (v < Integer.MIN_VALUE || v > 0xFFFF_FFFFL) {
                throw new NumberFormatException();
            }
            return (int) v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid System V key: key='" + printable(s)
                    + "' (expected a 32-bit decimal or 0x-hex integer)");
        }
    }

    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
