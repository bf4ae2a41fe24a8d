package io.shmkit.internal;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The published javadoc has no link into this package (it is not exported, so such a link
 * breaks there): a javadoc comment on a non-private declaration of a public type outside
 * {@code io.shmkit.internal} names internal classes in plain text or {@code {@code ...}}, never
 * with {@code {@link}}, {@code {@linkplain}} or {@code @see}. Run from the module directory
 * (Maven's default), it reads the sources.
 */
class NoPublicDocLinkTest {

    private static final Path MAIN = Path.of("src/main/java/io/shmkit");
    private static final Pattern DOC = Pattern.compile("/\\*\\*(.*?)\\*/\\s*([^\\n]*)", Pattern.DOTALL);
    private static final Pattern LINK = Pattern.compile("(\\{@link(?:plain)?|@see)\\s+([\\w.]+)");
    private static final Pattern PUBLIC_TYPE = Pattern.compile(
            "(?m)^public\\s+(?:(?:final|abstract|sealed|non-sealed)\\s+)*(?:class|interface|enum|record)\\b");

    @Test
    void publicJavadocDoesNotLinkIntoInternal() throws IOException {
        Set<String> internal;
        try (Stream<Path> s = Files.list(MAIN.resolve("internal"))) {
            internal = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".java"))
                    .map(n -> n.substring(0, n.length() - 5)).collect(Collectors.toSet());
        }
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java") && !p.startsWith(MAIN.resolve("internal")))
                    .toList()) {
                String src = Files.readString(f);
                if (!PUBLIC_TYPE.matcher(src).find()) {
                    continue; // a package-private type: not in the published docs
                }
                Matcher d = DOC.matcher(src);
                while (d.find()) {
                    if (d.group(2).contains("private ")) {
                        continue;
                    }
                    Matcher l = LINK.matcher(d.group(1));
                    while (l.find()) {
                        String target = l.group(2);
                        String simple = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
                        if (target.startsWith("io.shmkit.internal") || internal.contains(simple)) {
                            found.add(f + ": " + l.group());
                        }
                    }
                }
            }
        }
        assertThat(found).as("public javadoc links into io.shmkit.internal").isEmpty();
    }
}
