package io.shmkit.cli;

import io.shmkit.pool.PoolConfig;
import io.shmkit.pool.PoolConfigFile;
import io.shmkit.pool.PoolReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code shmkit pools CONFIG}: the object pools of a memorypool.ini, read-only. */
@Command(name = "pools", mixinStandardHelpOptions = true,
        description = "Show the object pools of a memorypool.ini: types, capacity, used, blocks, start, owner (read-only).")
final class PoolsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;
    @Parameters(paramLabel = "CONFIG", description = "memorypool.ini")
    Path config;
    @Option(names = "--process", paramLabel = "NAME", description = "Only this process section.")
    String process;
    @Option(names = "--json", description = "One JSON document.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PoolConfigFile file = PoolConfigFile.load(config);
        List<String> names = process == null ? file.processNames() : List.of(file.process(process).process());
        List<String> docs = new ArrayList<>();
        for (String n : names) {
            PoolConfig c = file.process(n);
            try (PoolReader r = PoolReader.open(c)) {
                PoolReader.Info i = r.info();
                if (json) {
                    docs.add(json(i));
                } else {
                    print(out, i);
                }
            } catch (io.shmkit.SegmentNotFoundException e) {
                if (json) {
                    docs.add("{\"process\":" + Json.str(n) + ",\"state\":\"absent\"}");
                } else {
                    out.printf("process %s: no pools (base %s does not exist: the next start is a cold start)%n", n, c.baseKey());
                }
            }
        }
        if (json) {
            out.println("[" + String.join(",", docs) + "]");
        }
        return 0;
    }

    private static void print(PrintWriter out, PoolReader.Info i) {
        out.printf("process %s  base %s  block size %s%n", i.process(), i.baseKey(), Sizes.human(i.blockSize()));
        out.printf("  cold start %s, %s%n", i.coldStart(), i.resumes() == 0 ? "never resumed (last start: cold start)"
                : "resumed " + i.resumes() + " times (last start: resume at " + i.lastResume() + ")");
        out.printf("  owner %s%n", i.ownerPid() == 0 ? "none" : "pid " + i.ownerPid() + " (" + i.owner().label() + ")");
        out.printf("  transactions committed %d, rolled back %d%n", i.commits(), i.rollbacks());
        out.printf("  %-4s %-20s %-6s %10s %10s %8s %7s%n", "id", "type", "keyed", "capacity", "used", "record", "chunks");
        for (PoolReader.TypeInfo t : i.types()) {
            out.printf("  %-4d %-20s %-6s %10d %10d %8d %7d%n", t.id(), t.name(), t.keyed() ? "yes" : "no", t.capacity(), t.used(),
                    t.recordSize(), t.chunks());
        }
        for (PoolReader.BlockInfo b : i.blocks()) {
            out.printf("  block %d %-32s used %10s free %10s%n", b.index(), b.key(), Sizes.human(b.used()), Sizes.human(b.free()));
        }
    }

    private static String json(PoolReader.Info i) {
        StringBuilder s = new StringBuilder("{\"process\":").append(Json.str(i.process())).append(",\"base\":")
                .append(Json.str(i.baseKey().toString())).append(",\"blockSize\":").append(i.blockSize())
                .append(",\"coldStart\":").append(Json.str(i.coldStart().toString())).append(",\"resumes\":").append(i.resumes())
                .append(",\"lastStart\":").append(Json.str(i.resumes() == 0 ? "COLD_START" : "RESUME"))
                .append(",\"ownerPid\":").append(i.ownerPid()).append(",\"ownerAlive\":").append(i.owner() == io.shmkit.segment.Liveness.ALIVE)
                .append(",\"owner\":").append(Json.str(i.owner().label()))
                .append(",\"commits\":").append(i.commits()).append(",\"rollbacks\":").append(i.rollbacks()).append(",\"types\":[");
        for (int k = 0; k < i.types().size(); k++) {
            PoolReader.TypeInfo t = i.types().get(k);
            s.append(k == 0 ? "" : ",").append("{\"id\":").append(t.id()).append(",\"name\":").append(Json.str(t.name()))
                    .append(",\"keyed\":").append(t.keyed()).append(",\"capacity\":").append(t.capacity()).append(",\"used\":")
                    .append(t.used()).append(",\"recordSize\":").append(t.recordSize()).append(",\"chunks\":").append(t.chunks()).append('}');
        }
        s.append("],\"blocks\":[");
        for (int k = 0; k < i.blocks().size(); k++) {
            PoolReader.BlockInfo b = i.blocks().get(k);
            s.append(k == 0 ? "" : ",").append("{\"index\":").append(b.index()).append(",\"key\":").append(Json.str(b.key()))
                    .append(",\"used\":").append(b.used()).append(",\"free\":").append(b.free()).append('}');
        }
        return s.append("]}").toString();
    }
}
