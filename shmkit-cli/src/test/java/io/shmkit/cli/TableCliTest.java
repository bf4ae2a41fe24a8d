package io.shmkit.cli;

import io.shmkit.segment.Segment;
import io.shmkit.segment.SegmentName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code shmkit table ...}: what a shell script sees (stdout, one-line stderr, exit status). */
class TableCliTest {

    private static final String PREFIX = "shmkit-tablecli-" + ProcessHandle.current().pid() + "-";
    private final List<SegmentName> created = new ArrayList<>();

    private static CliTest.Result run(String... args) {
        return CliTest.run(args);
    }

    private String table(String tag, int rows) {
        String n = PREFIX + tag;
        created.add(SegmentName.posix(n));
        CliTest.Result c = run("table", "create", n, "--rows", "" + rows, "--key-size", "16", "--column", "name:string:8",
                "--column", "score:int64", "--column", "level:int32", "--column", "ratio:float64", "--column", "blob:bytes:4");
        assertThat(c.status()).as(c.err()).isZero();
        assertThat(c.out()).contains("created table posix:" + n).contains("rows=" + rows);
        return n;
    }

    @AfterEach
    void cleanUp() {
        created.forEach(Segment::unlink);
    }

    private static void oneLineError(CliTest.Result r, int status, String fragment) {
        assertThat(r.status()).as(r.out() + r.err()).isEqualTo(status);
        assertThat(r.err()).contains(fragment).endsWith(System.lineSeparator());
        assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
    }

    @Test
    void setGetIncrDeleteFromTheShell() {
        String n = table("crud", 10);
        assertThat(run("table", "set", n, "alice", "name=Alice", "score=10", "blob=00ff").out()).isEqualTo("inserted\n");
        assertThat(run("table", "set", n, "alice", "level=3").out()).isEqualTo("updated\n");
        assertThat(run("table", "get", n, "alice").out()).isEqualTo("alice\tname=Alice\tscore=10\tlevel=3\tratio=0.0\tblob=00ff\n");
        assertThat(run("table", "get", n, "alice", "score").out()).isEqualTo("10\n");
        assertThat(run("table", "get", n, "alice", "--json").out())
                .isEqualTo("{\"key\":\"alice\",\"columns\":{\"name\":\"Alice\",\"score\":10,\"level\":3,\"ratio\":0.0,\"blob\":\"00ff\"}}\n");
        assertThat(run("table", "get", n, "alice", "name", "--json").out())
                .isEqualTo("{\"key\":\"alice\",\"column\":\"name\",\"value\":\"Alice\"}\n");
        assertThat(run("table", "incr", n, "alice", "score").out()).isEqualTo("11\n");
        assertThat(run("table", "incr", n, "alice", "score", "9").out()).isEqualTo("20\n");
        assertThat(run("table", "decr", n, "hits", "level", "2").out()).isEqualTo("-2\n");
        assertThat(run("table", "incr", n, "hits", "ratio", "0.5").out()).isEqualTo("0.5\n");
        assertThat(run("table", "exists", n, "alice").status()).isZero();
        assertThat(run("table", "count", n).out()).isEqualTo("2\n");
        assertThat(run("table", "dump", n).out()).contains("alice\tname=Alice").contains("hits\tname=\tscore=0\tlevel=-2");
        assertThat(run("table", "dump", n, "--json").out()).startsWith("[{\"key\":").contains("\"key\":\"hits\"").endsWith("]\n");
        CliTest.Result stat = run("table", "stat", n, "--json");
        assertThat(stat.out()).contains("\"rows\":2,\"capacity\":10").contains("\"inserts\":2").contains("\"maxKeyLength\":16")
                .contains("{\"name\":\"blob\",\"type\":\"bytes\",\"size\":4}");
        assertThat(run("table", "stat", n).out()).contains("rows:           2 of 10").contains("schema:         key:16 name:string:8");
        assertThat(run("table", "del", n, "alice").out()).isEqualTo("deleted\n");
        assertThat(run("table", "count", n).out()).isEqualTo("1\n");
    }

    @Test
    void missingKeyFullTableAndExistingKeyHaveTheirOwnExitStatus() {
        String n = table("codes", 2);
        oneLineError(run("table", "get", n, "nobody"), TableCommand.NOT_FOUND, "key 'nobody' not found in table 'table'");
        oneLineError(run("table", "del", n, "nobody"), TableCommand.NOT_FOUND, "not found");
        oneLineError(run("table", "update", n, "nobody", "score=1"), TableCommand.NOT_FOUND, "not found");
        CliTest.Result no = run("table", "exists", n, "nobody");
        assertThat(no.status()).isEqualTo(TableCommand.NOT_FOUND);
        assertThat(no.out()).isEqualTo("no\n");
        assertThat(run("table", "add", n, "a", "score=1").status()).isZero();
        oneLineError(run("table", "add", n, "a", "score=2"), TableCommand.EXISTS, "key 'a' already exists");
        assertThat(run("table", "set", n, "b", "score=1").status()).isZero();
        oneLineError(run("table", "set", n, "c", "score=1"), TableCommand.FULL, "table 'table' is full: it holds its capacity of 2 rows");
        oneLineError(run("table", "incr", n, "c", "score"), TableCommand.FULL, "is full");
        assertThat(run("table", "incr", n, "a", "score").out()).isEqualTo("2\n"); // updates still work when full
        assertThat(run("table", "get", n, "a", "score").out()).isEqualTo("2\n");
    }

    @Test
    void badValuesAreErrorsNeverZero() {
        String n = table("bad", 4);
        assertThat(run("table", "set", n, "k", "score=5", "name=ok").status()).isZero();
        oneLineError(run("table", "set", n, "k", "score=abc"), 2, "value 'abc' for column 'score' is not an int64");
        oneLineError(run("table", "set", n, "k", "level=99999999999"), 2, "out of range for int32");
        oneLineError(run("table", "set", n, "k", "ratio=fast"), 2, "is not a float64");
        oneLineError(run("table", "set", n, "k", "blob=xyz"), 2, "is not hex");
        oneLineError(run("table", "set", n, "k", "name=far too long"), 2, "value too long for column 'name'");
        oneLineError(run("table", "set", n, "k", "nosuch=1"), 2, "unknown column 'nosuch'");
        oneLineError(run("table", "set", n, "k", "score"), 2, "expected COLUMN=VALUE");
        oneLineError(run("table", "incr", n, "k", "score", "lots"), 2, "value 'lots' for column 'score' is not an int64");
        oneLineError(run("table", "incr", n, "k", "name"), 2, "'name' is string, not a number");
        oneLineError(run("table", "set", n, "a-key-longer-than-16", "score=1"), 2, "key too long: bytes=20 max=16");
        oneLineError(run("table", "set", n, "", "score=1"), 2, "empty key");
        assertThat(run("table", "get", n, "k").out()).isEqualTo("k\tname=ok\tscore=5\tlevel=0\tratio=0.0\tblob=\n");
        assertThat(run("table", "count", n).out()).isEqualTo("1\n");
    }

    @Test
    void createRefusesBadColumnsAndASegmentWithoutATableIsAClearError() {
        String n = PREFIX + "plain";
        created.add(SegmentName.posix(n));
        oneLineError(run("table", "create", n, "--rows", "4", "--column", "x:int128"), 2, "unknown type 'int128'");
        oneLineError(run("table", "create", n, "--rows", "4", "--column", "x:string"), 2, "string and bytes need a size");
        oneLineError(run("table", "create", n, "--rows", "0", "--column", "x:int64"), 2, "rows must be in 1..");
        assertThat(run("create", n, "--size", "64k").status()).isZero();
        oneLineError(run("table", "get", n, "k"), 1, "holds no shared table");
        oneLineError(run("table", "set", n, "k", "x=1"), 1, "holds no shared table");
        oneLineError(run("table", "count", PREFIX + "nosuch"), 1, PREFIX + "nosuch");
    }
}
