package io.shmkit.jcstress;

import io.shmkit.table.Column;
import io.shmkit.table.RowView;
import io.shmkit.table.SharedTable;
import io.shmkit.table.TableSchema;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * SharedTable reads are never torn: a {@code get} that runs during a {@code set} of the whole
 * row sees the row entirely before or entirely after it.
 */
@JCStressTest
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "the row before the set")
@Outcome(id = "2, 2", expect = ACCEPTABLE, desc = "the row after the set")
@Outcome(expect = FORBIDDEN, desc = "a torn row: one column old, the other new")
@State
public class TableTornReadTest {

    static final TableSchema SCHEMA = TableSchema.builder(8).int64("a").int64("b").build();
    private static final byte[] KEY = {'k'};

    private final SharedTable table;
    private final Column a;
    private final Column b;
    private final RowView update;
    private final RowView read;

    public TableTornReadTest() {
        long length = SharedTable.bytesNeeded(SCHEMA, 4);
        MemorySegment m = Arena.ofAuto().allocate(length, 4096);
        table = SharedTable.create(m, 0, length, "t", SCHEMA, 4);
        a = SCHEMA.column("a");
        b = SCHEMA.column("b");
        table.set(KEY, table.newRow().setLong(a, 1).setLong(b, 1));
        update = table.newRow().setLong(a, 2).setLong(b, 2);
        read = table.newRow();
    }

    @Actor
    public void writer() {
        table.set(KEY, update);
    }

    @Actor
    public void reader(JJ_Result r) {
        if (table.get(KEY, read)) {
            r.r1 = read.getLong(a);
            r.r2 = read.getLong(b);
        } else {
            r.r1 = -1;
            r.r2 = -1;
        }
    }
}
