#!/usr/bin/env bash
# Prints the home directory of a JDK 25 or newer, or explains on stderr what to install and
# exits 1. Looks at SHMKIT_JAVA_HOME, JAVA_HOME, the java on PATH, then the usual install
# locations (Debian/Ubuntu /usr/lib/jvm, RPM /usr/java and /usr/lib/jvm, /opt, SDKMAN,
# IntelliJ's ~/.jdks, asdf, macOS /Library/Java). Used by ./mvnw and ./shmkit.
set -u
need=25

major_of() { # $1 = JDK home; prints its feature version or nothing
  local home="$1" v=""
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  if [ -f "$home/release" ]; then
    v="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release" | head -n1)"
  fi
  if [ -z "$v" ]; then
    v="$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  fi
  printf '%s' "$v"
}

ok() { local v; v="$(major_of "$1")"; [ -n "$v" ] && [ "$v" -ge "$need" ] 2>/dev/null; }

candidates() {
  [ -n "${SHMKIT_JAVA_HOME:-}" ] && echo "$SHMKIT_JAVA_HOME"
  [ -n "${JAVA_HOME:-}" ] && echo "$JAVA_HOME"
  if command -v java >/dev/null 2>&1; then
    local j; j="$(readlink -f "$(command -v java)" 2>/dev/null || true)"
    [ -n "$j" ] && dirname "$(dirname "$j")"
  fi
  local d
  for d in /usr/lib/jvm/* /usr/java/* /usr/local/lib/jvm/* /opt/java/* /opt/jdk* /opt/*jdk* \
           "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* "$HOME"/.asdf/installs/java/* \
           /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$d" ] && echo "$d"
  done
}

best="" best_v=0
while IFS= read -r home; do
  [ -n "$home" ] || continue
  if ok "$home"; then
    v="$(major_of "$home")"
    # prefer the first one found at the lowest qualifying version (25 LTS over later ones)
    if [ -z "$best" ] || [ "$v" -lt "$best_v" ]; then best="$home"; best_v="$v"; fi
  fi
done <<EOF2
$(candidates)
EOF2

if [ -z "$best" ]; then
  echo "shmkit needs a JDK $need or newer, and none was found (looked at JAVA_HOME, PATH, /usr/lib/jvm, /opt, SDKMAN, ~/.jdks): install one, e.g. 'apt-get install openjdk-$need-jdk' or a Temurin $need, or point SHMKIT_JAVA_HOME at it." >&2
  exit 1
fi
printf '%s\n' "$best"
