package dev.embla.faas.polyglot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.polyglot.js.JsRuntimeProvider;
import dev.embla.faas.polyglot.python.PyRuntimeProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host with this module on its class path but no guest-language function must not start Truffle. Once started,
 * Truffle's runtime hooks every virtual thread's mount and unmount in the JVM (a JVMTI event and a JNI upcall each,
 * and a JVM-wide mutex on a new virtual thread's first mount), which slows every virtual thread of the host, Java
 * functions' included. A child JVM builds
 * an engine, which instantiates both runtime providers, and logs each class it loads; none may be Truffle's.
 */
class TruffleStartsLazilyTest {

  @TempDir Path dir;

  @Test
  void buildingAnEngineLoadsTheProvidersButNotTruffle() throws Exception {
    List<String> loaded = classesLoadedBy(Child.class);

    assertThat(loaded).as("the providers were instantiated")
        .contains(JsRuntimeProvider.class.getName(), PyRuntimeProvider.class.getName(), Child.DONE);
    assertThat(loaded).as("classes of Truffle or of the polyglot implementation")
        .noneMatch(name -> name.startsWith("com.oracle.truffle."));
  }

  private List<String> classesLoadedBy(Class<?> main) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path log = dir.resolve("child.log");
    Process child = new ProcessBuilder(java, "-Xlog:class+load=info:stdout:tags", "-cp",
        System.getProperty("java.class.path"), main.getName())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    boolean exited = child.waitFor(60, TimeUnit.SECONDS);
    if (!exited) {
      child.destroyForcibly();
    }
    String out = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(exited).as("the child exited within 60 s").isTrue();
    assertThat(child.exitValue()).as(out).isZero();
    // "[class,load] java.lang.Object source: shared objects file"; the child's own marker line is a plain line
    return out.lines()
        .map(line -> line.startsWith("[class,load] ") ? line.substring(13).split(" ", 2)[0] : line)
        .toList();
  }

  /** The child JVM: builds and closes an engine. */
  static final class Child {

    static final String DONE = "engine built and closed";

    public static void main(String[] args) {
      try (FaasEngine engine = FaasEngine.builder().build()) {
        // Building found the runtime providers through ServiceLoader and constructed them.
        assertThat(engine).isNotNull();
      }
      System.out.println(DONE);
    }
  }
}
