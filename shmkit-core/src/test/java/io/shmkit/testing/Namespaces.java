package io.shmkit.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Command prefixes that start a child JVM the way containers and hardened hosts run it: in a
 * new pid namespace (it is pid 1 there and sees only its own {@code /proc}), or as an
 * unprivileged user under a {@code hidepid=2} {@code /proc}. Each prefix is tried once with
 * {@code true}; when the kernel or the machine refuses, the calling test is skipped with the
 * reason printed (never silently).
 */
public final class Namespaces {

    private Namespaces() {
    }

    /**
     * {@code unshare -p -f --kill-child --mount-proc}: the child JVM is pid 1 of a new pid
     * namespace; {@code --kill-child} makes it die with the {@code unshare} process the test
     * kills, so no JVM is left behind.
     */
    public static List<String> newPidNamespace() {
        List<String> prefix = List.of("unshare", "--pid", "--fork", "--kill-child", "--mount-proc");
        assumeWorks(prefix, "a new pid namespace");
        return prefix;
    }

    /**
     * A private mount namespace whose {@code /proc} is mounted with {@code hidepid=2}, and the
     * child run as user 65534 ({@code nobody}) by {@code setpriv}: it cannot see other users'
     * processes in {@code /proc}.
     */
    public static List<String> hidepidAsNobody() {
        List<String> prefix = List.of("unshare", "--mount", "sh", "-c",
                "mount -t proc -o hidepid=2 proc /proc && exec setpriv --reuid=65534 --regid=65534 --clear-groups"
                        + " \"$0\" \"$@\"");
        assumeWorks(prefix, "hidepid=2 /proc as user 65534");
        return prefix;
    }

    private static void assumeWorks(List<String> prefix, String what) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add("true");
        String reason;
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            boolean done = p.waitFor(30, TimeUnit.SECONDS);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!done) {
                p.destroyForcibly();
            }
            if (done && p.exitValue() == 0) {
                return;
            }
            reason = done ? "exit " + p.exitValue() + ": " + out : "did not finish";
        } catch (IOException | InterruptedException e) {
            reason = e.toString();
        }
        String message = "SKIPPED: cannot run a child in " + what + " (" + String.join(" ", cmd) + "): " + reason;
        System.err.println(message);
        Assumptions.abort(message);
    }
}
