package io.shmkit.cli;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import io.shmkit.segment.SegmentOptions;
import io.shmkit.table.Column;
import io.shmkit.table.ColumnType;
import io.shmkit.table.RowView;
import io.shmkit.table.SharedTable;
import io.shmkit.table.TableFullException;
import io.shmkit.table.TableSchema;
import io.shmkit.table.TableStats;
import io.shmkit.table.WriteResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * {@code shmkit table ...}: a shared table (one per segment) from the shell. Exit status: 0 done,
 * 1 error, 2 usage error, {@value #NOT_FOUND} key not found, {@value #FULL} table full,
 * {@value #EXISTS} key exists ({@code add}). Keys are text (UTF-8); values are parsed as their
 * column's type (an unparsable value is an error, never 0); bytes columns take and print hex.
 */
@Command(name = "table", mixinStandardHelpOptions = true,
        description = {"A shared table in a segment: create, set, add, update, get, incr, decr, del, exists, count, dump, stat.",
                "Exit status: 0 ok, 1 error, 2 usage, 3 key not found, 4 table full, 5 key exists (add)."},
        subcommands = {TableCommand.Create.class, TableCommand.Set.class, TableCommand.Add.class, TableCommand.Update.class,
                TableCommand.Get.class, TableCommand.Incr.class, TableCommand.Decr.class, TableCommand.Del.class,
                TableCommand.Exists.class, TableCommand.Count.class, TableCommand.Dump.class, TableCommand.Stat.class})
final class TableCommand {

    static final int NOT_FOUND = 3;
    static final int FULL = 4;
    static final int EXISTS = 5;

    private TableCommand() {
    }

    /** Opens the segment's table, runs {@code body}, closes the segment. */
    static int withTable(SegmentArg seg, boolean readOnly, Function<SharedTable, Integer> body) {
        SegmentName n = seg.resolve();
        SegmentOptions o = SegmentOptions.defaults().withReadOnly(readOnly);
        try (Segment s = Segment.open(n, o)) {
            return body.apply(SharedTable.openOnly(s));
        }
    }

    static int notFound(CommandSpec spec, SharedTable t, String key) {
        return fail(spec, NOT_FOUND, "key '" + key + "' not found in table '" + t.name() + "'");
    }

    static int fail(CommandSpec spec, int status, String message) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("shmkit: " + message);
        err.flush();
        return status;
    }

    static int result(CommandSpec spec, SharedTable t, String key, WriteResult r) {
        return switch (r) {
            case INSERTED, UPDATED -> {
                spec.commandLine().getOut().println(r.name().toLowerCase(Locale.ROOT));
                yield 0;
            }
            case ABSENT -> notFound(spec, t, key);
            case EXISTS -> fail(spec, EXISTS, "key '" + key + "' already exists in table '" + t.name() + "'");
            case FULL -> fail(spec, FULL, "table '" + t.name() + "' is full: it holds its capacity of " + t.capacity() + " rows");
        };
    }

    /** Parses {@code col=value} pairs into the view, strictly by column type. */
    static RowView values(SharedTable t, List<String> pairs) {
        RowView v = t.newRow();
        if (pairs == null || pairs.isEmpty()) {
            throw new IllegalArgumentException("no values given: expected COLUMN=VALUE ...");
        }
        for (String p : pairs) {
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected COLUMN=VALUE, got '" + p + "'");
            }
            Column c = t.schema().column(p.substring(0, eq));
            String s = p.substring(eq + 1);
            switch (c.type()) {
                case INT32 -> v.setInt(c, (int) parseLong(c, s, Integer.MIN_VALUE, Integer.MAX_VALUE));
                case INT64 -> v.setLong(c, parseLong(c, s, Long.MIN_VALUE, Long.MAX_VALUE));
                case FLOAT64 -> v.setDouble(c, parseDouble(c, s));
                case STRING -> v.setString(c, s);
                case BYTES -> v.setBytes(c, parseHex(c, s));
            }
        }
        return v;
    }

    static long parseLong(Column c, String s, long min, long max) {
        long v;
        try {
            v = Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("value '" + s + "' for column '" + c.name() + "' is not an " + c.type().label());
        }
        if (v < min || v > max) {
            throw new IllegalArgumentException("value " + s + " for column '" + c.name() + "' is out of range for " + c.type().label());
        }
        return v;
    }

    static double parseDouble(Column c, String s) {
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("value '" + s + "' for column '" + c.name() + "' is not a float64");
        }
    }

    static byte[] parseHex(Column c, String s) {
        try {
            return HexFormat.of().parseHex(s.startsWith("0x") ? s.substring(2) : s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("value '" + s + "' for bytes column '" + c.name() + "' is not hex");
        }
    }

    static String json(Column c, RowView v) {
        return switch (c.type()) {
            case INT32, INT64 -> v.format(c);
            case FLOAT64 -> Double.isFinite(v.getDouble(c)) ? v.format(c) : Json.str(v.format(c));
            case STRING, BYTES -> Json.str(v.format(c));
        };
    }

    static String rowJson(SharedTable t, RowView v) {
        StringBuilder b = new StringBuilder("{\"key\":").append(Json.str(v.keyString())).append(",\"columns\":{");
        List<Column> cols = t.schema().columns();
        for (int i = 0; i < cols.size(); i++) {
            b.append(i == 0 ? "" : ",").append(Json.str(cols.get(i).name())).append(':').append(json(cols.get(i), v));
        }
        return b.append("}}").toString();
    }

    static String rowText(SharedTable t, RowView v) {
        StringBuilder b = new StringBuilder(v.keyString());
        for (Column c : t.schema().columns()) {
            b.append('\t').append(c.name()).append('=').append(v.format(c));
        }
        return b.toString();
    }

    // ------------------------------------------------------------------ subcommands

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a segment holding a table of exactly --rows rows.")
    static final class Create implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin SegmentArg segment;
        @Option(names = "--rows", required = true, paramLabel = "N", description = "Rows (distinct keys) the table holds, exactly.")
        int rows;
        @Option(names = "--key-size", defaultValue = "64", paramLabel = "BYTES", description = "Longest key in bytes (default: ${DEFAULT-VALUE}).")
        int keySize;
        @Option(names = "--column", required = true, paramLabel = "NAME:TYPE[:SIZE]",
                description = "A column: NAME:int32, NAME:int64, NAME:float64, NAME:string:SIZE, NAME:bytes:SIZE (repeatable).")
        List<String> columns;
        @Option(names = "--mode", paramLabel = "MODE", defaultValue = "600", description = "Octal permission bits (default: ${DEFAULT-VALUE}).")
        String mode;

        @Override
        public Integer call() {
            TableSchema.Builder b = TableSchema.builder(keySize);
            for (String spec : columns) {
                String[] p = spec.split(":");
                if (p.length < 2 || p.length > 3) {
                    throw new IllegalArgumentException("column '" + spec + "': expected NAME:TYPE or NAME:TYPE:SIZE");
                }
                ColumnType type;
                try {
                    type = ColumnType.valueOf(p[1].toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("column '" + spec + "': unknown type '" + p[1]
                            + "' (int32, int64, float64, string, bytes)");
                }
                boolean sized = type == ColumnType.STRING || type == ColumnType.BYTES;
                if (sized != (p.length == 3)) {
                    throw new IllegalArgumentException("column '" + spec + "': " + (sized ? "string and bytes need a size, e.g. "
                            + p[0] + ":" + p[1] + ":32" : type.label() + " takes no size"));
                }
                int size;
                try {
                    size = sized ? Integer.parseInt(p[2]) : 0;
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("column '" + spec + "': size '" + p[2] + "' is not a number");
                }
                b.add(p[0], type, size);
            }
            TableSchema schema = b.build();
            int m;
            try {
                m = Integer.parseInt(mode, 8);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid mode: '" + mode + "' (expected octal, e.g. 600)");
            }
            SegmentName n = segment.resolve();
            long size = SharedTable.segmentSize(schema, rows);
            try (Segment s = Segment.create(n, size, SegmentOptions.defaults().withMode(m))) {
                SharedTable.create(s, SharedTable.DEFAULT_NAME, schema, rows);
            }
            spec.commandLine().getOut().println("created table " + n + " rows=" + rows + " bytes=" + size + " " + schema);
            return 0;
        }
    }

    abstract static class Write implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin SegmentArg segment;
        @Parameters(index = "1", paramLabel = "KEY") String key;
        @Parameters(index = "2..*", paramLabel = "COLUMN=VALUE") List<String> pairs = new ArrayList<>();

        abstract WriteResult write(SharedTable t, RowView v);

        @Override
        public Integer call() {
            return withTable(segment, false, t -> result(spec, t, key, write(t, values(t, pairs))));
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Insert or update a row (only the given columns change).")
    static final class Set extends Write {
        WriteResult write(SharedTable t, RowView v) {
            return t.set(key, v);
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Insert a row only if KEY is absent (exit 5 if present).")
    static final class Add extends Write {
        WriteResult write(SharedTable t, RowView v) {
            return t.add(key, v);
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true, description = "Update a row only if KEY is present (exit 3 if absent).")
    static final class Update extends Write {
        WriteResult write(SharedTable t, RowView v) {
            return t.update(key, v);
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Print a row, or one column of it (exit 3 if absent).")
    static final class Get implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin SegmentArg segment;
        @Parameters(index = "1", paramLabel = "KEY") String key;
        @Parameters(index = "2", arity = "0..1", paramLabel = "COLUMN") String column;
        @Option(names = "--json", description = "Print JSON.") boolean json;

        @Override
        public Integer call() {
            return withTable(segment, true, t -> {
                Column c = column == null ? null : t.schema().column(column);
                RowView v = t.newRow();
                if (!t.get(key, v)) {
                    return notFound(spec, t, key);
                }
                PrintWriter out = spec.commandLine().getOut();
                if (c != null) {
                    out.println(json ? "{\"key\":" + Json.str(key) + ",\"column\":" + Json.str(c.name()) + ",\"value\":"
                            + json(c, v) + "}" : v.format(c));
                } else {
                    out.println(json ? rowJson(t, v) : rowText(t, v));
                }
                return 0;
            });
        }
    }

    abstract static class Add1 implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin SegmentArg segment;
        @Parameters(index = "1", paramLabel = "KEY") String key;
        @Parameters(index = "2", paramLabel = "COLUMN") String column;
        @Parameters(index = "3", arity = "0..1", paramLabel = "BY", defaultValue = "1") String by;

        abstract int sign();

        @Override
        public Integer call() {
            return withTable(segment, false, t -> {
                Column c = t.schema().column(column);
                try {
                    String now = switch (c.type()) {
                        case FLOAT64 -> Double.toString(t.incrDouble(key, column, sign() * parseDouble(c, by)));
                        case INT32, INT64 -> Long.toString(t.incr(key, column, sign() * parseLong(c, by, Long.MIN_VALUE + 1, Long.MAX_VALUE)));
                        default -> throw new IllegalArgumentException("column '" + c.name() + "' is " + c.type().label()
                                + ", not a number");
                    };
                    spec.commandLine().getOut().println(now);
                    return 0;
                } catch (TableFullException e) {
                    return fail(spec, FULL, e.getMessage());
                }
            });
        }
    }

    @Command(name = "incr", mixinStandardHelpOptions = true, description = "Add BY (default 1) to a numeric column; a missing key starts at 0. Prints the new value.")
    static final class Incr extends Add1 {
        int sign() {
            return 1;
        }
    }

    @Command(name = "decr", mixinStandardHelpOptions = true, description = "Subtract BY (default 1) from a numeric column; a missing key starts at 0.")
    static final class Decr extends Add1 {
        int sign() {
            return -1;
        }
    }

    @Command(name = "del", mixinStandardHelpOptions = true, description = "Delete a row (exit 3 if absent).")
    static final class Del implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin SegmentArg segment;
        @Parameters(index = "1", paramLabel = "KEY") String key;

        @Override
        public Integer call() {
            return withTable(segment, false, t -> {
                if (!t.delete(key)) {
                    return notFound(spec, t, key);
                }
                spec.commandLine().getOut().println("deleted");
                return 0;
            });
        }
    }

    @Command(name = "exists", mixinStandardHelpOptions = true, description = "Exit 0 if KEY is present, 3 if not (prints yes/no).")
    static final class Exists implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin SegmentArg segment;
        @Parameters(index = "1", paramLabel = "KEY") String key;

        @Override
        public Integer call() {
            return withTable(segment, true, t -> {
                boolean yes = t.exists(key);
                spec.commandLine().getOut().println(yes ? "yes" : "no");
                return yes ? 0 : NOT_FOUND;
            });
        }
    }

    @Command(name = "count", mixinStandardHelpOptions = true, description = "Print the number of rows.")
    static final class Count implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin SegmentArg segment;

        @Override
        public Integer call() {
            return withTable(segment, true, t -> {
                spec.commandLine().getOut().println(t.count());
                return 0;
            });
        }
    }

    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = "Print every row (KEY<TAB>col=value...); consistent rows, weakly consistent set while others write.")
    static final class Dump implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin SegmentArg segment;
        @Option(names = "--json", description = "Print a JSON array.") boolean json;

        @Override
        public Integer call() {
            return withTable(segment, true, t -> {
                PrintWriter out = spec.commandLine().getOut();
                StringBuilder b = new StringBuilder("[");
                t.forEach(v -> {
                    if (json) {
                        b.append(b.length() == 1 ? "" : ",").append(rowJson(t, v));
                    } else {
                        out.println(rowText(t, v));
                    }
                });
                if (json) {
                    out.println(b.append(']'));
                }
                return 0;
            });
        }
    }

    @Command(name = "stat", mixinStandardHelpOptions = true, description = "Rows, capacity, memory, counters, schema.")
    static final class Stat implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin SegmentArg segment;
        @Option(names = "--json", description = "Print JSON.") boolean json;

        @Override
        public Integer call() {
            return withTable(segment, true, t -> {
                TableStats s = t.stats();
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    StringBuilder cols = new StringBuilder("[");
                    for (Column c : t.schema().columns()) {
                        cols.append(cols.length() == 1 ? "" : ",").append("{\"name\":").append(Json.str(c.name()))
                                .append(",\"type\":").append(Json.str(c.type().label())).append(",\"size\":").append(c.size()).append('}');
                    }
                    out.printf("{\"table\":%s,\"rows\":%d,\"capacity\":%d,\"bytesMapped\":%d,\"bytesResident\":%d,"
                                    + "\"inserts\":%d,\"updates\":%d,\"deletes\":%d,\"longestProbe\":%d,\"repairs\":%d,"
                                    + "\"maxKeyLength\":%d,\"columns\":%s]}%n", Json.str(t.name()), s.rows(), s.capacity(),
                            s.bytesMapped(), s.bytesResident(), s.inserts(), s.updates(), s.deletes(), s.longestProbe(),
                            s.repairs(), t.schema().maxKeyLength(), cols);
                } else {
                    out.printf("rows:           %d of %d%n", s.rows(), s.capacity());
                    out.printf("bytes:          %d mapped, %d resident (%d per row)%n", s.bytesMapped(), s.bytesResident(),
                            s.bytesMapped() / s.capacity());
                    out.printf("operations:     %d inserts, %d updates, %d deletes%n", s.inserts(), s.updates(), s.deletes());
                    out.printf("longest probe:  %d%n", s.longestProbe());
                    out.printf("repairs:        %d%n", s.repairs());
                    out.printf("schema:         %s%n", t.schema());
                }
                return 0;
            });
        }
    }
}
