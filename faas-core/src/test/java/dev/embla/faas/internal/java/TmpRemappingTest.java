package dev.embla.faas.internal.java;

import static dev.embla.faas.internal.java.Fixtures.invoke;
import static dev.embla.faas.internal.java.Fixtures.prepare;
import static dev.embla.faas.internal.java.Fixtures.start;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.spi.sandbox.Sandbox;
import dev.embla.faas.testing.JavaFunctions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * A Java function's {@code /tmp} is its environment's own directory: every rewritten route maps there, paths elsewhere
 * are left alone, and two environments do not see each other's files. (Deletion at Shutdown is the pool's, covered by
 * the runtime contract suite through the engine.)
 */
class TmpRemappingTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static final String ROUTES = """
      package demo;
      import java.io.*;
      import java.net.URI;
      import java.nio.charset.StandardCharsets;
      import java.nio.file.*;
      import java.util.*;
      public class Routes {
        public Map<String, String> handle(String id) throws Exception {
          Map<String, String> r = new LinkedHashMap<>();
          String base = "/tmp/" + id;
          File plain = new File(base + "-file");
          plain.createNewFile();
          r.put("File(String)", plain.getPath());
          r.put("File(String,String)", new File("/tmp", id + "-pc").getPath());
          r.put("File(File,String)", new File(new File("/tmp"), id + "-fc").getPath());
          r.put("File(URI)", new File(URI.create("file:///tmp/" + id + "-uri")).getPath());
          r.put("Path.of", Path.of("/tmp", id + "-pathof").toString());
          r.put("Path.of(URI)", Path.of(URI.create("file:///tmp/" + id + "-puri")).toString());
          r.put("Paths.get", Paths.get(base + "-paths").toString());
          r.put("FileSystem.getPath", FileSystems.getDefault().getPath("/tmp", id + "-fs").toString());
          try (FileSystem zip = FileSystems.newFileSystem(Path.of(base + ".zip"), Map.of("create", "true"))) {
            r.put("zip FileSystem.getPath", zip.getPath("/tmp", "inside").toString());
          }
          Files.writeString(Path.of(base + "-nio"), "nio");
          r.put("Files.readString", Files.readString(Paths.get("/tmp", id + "-nio")));
          try (FileOutputStream o = new FileOutputStream(base + "-fos")) { o.write('x'); }
          try (FileOutputStream o = new FileOutputStream(base + "-fos", true)) { o.write('y'); }
          try (FileInputStream in = new FileInputStream(base + "-fos")) {
            r.put("FileInputStream", new String(in.readAllBytes(), StandardCharsets.UTF_8));
          }
          try (FileWriter w = new FileWriter(base + "-fw")) { w.write("a"); }
          try (FileWriter w = new FileWriter(base + "-fw", true)) { w.write("b"); }
          try (FileWriter w = new FileWriter(base + "-fw", StandardCharsets.UTF_8, true)) { w.write("c"); }
          try (FileWriter w = new FileWriter(base + "-fw2", StandardCharsets.UTF_8)) { w.write("d"); }
          try (FileReader in = new FileReader(base + "-fw")) { r.put("FileReader", read(in)); }
          try (FileReader in = new FileReader(base + "-fw2", StandardCharsets.UTF_8)) { r.put("FileReader(cs)", read(in)); }
          try (RandomAccessFile f = new RandomAccessFile(base + "-raf", "rw")) { f.writeBytes("raf"); }
          try (PrintWriter w = new PrintWriter(base + "-pw")) { w.print("pw"); }
          try (PrintStream w = new PrintStream(base + "-ps", "UTF-8")) { w.print("ps"); }
          try (Formatter f = new Formatter(base + "-fmt", "UTF-8", Locale.ROOT)) { f.format("%d", 42); }
          r.put("File.createTempFile", File.createTempFile("ctf", ".txt").getPath());
          r.put("File.createTempFile(null)", File.createTempFile("ctf", ".txt", null).getPath());
          r.put("Files.createTempFile", Files.createTempFile("nio", ".txt").toString());
          r.put("Files.createTempDirectory", Files.createTempDirectory("nio").toString());
          r.put("java.io.tmpdir", System.getProperty("java.io.tmpdir"));
          r.put("java.io.tmpdir(default)", System.getProperty("java.io.tmpdir", "none"));
          r.put("/tmp", new File("/tmp").getPath());
          r.put("elsewhere", new File("/var/" + id).getPath());
          r.put("escape", Path.of("/tmp/../etc/" + id).toString());
          r.put("relative", new File("tmp/" + id).getPath());
          r.put("list", String.join(",", new TreeSet<>(Arrays.asList(new File("/tmp").list()))));
          return r;
        }

        public Map<String, Object> peek(String id) {
          String[] names = new File("/tmp").list();
          return new TreeMap<String, Object>(Map.of("exists", new File("/tmp/" + id + "-file").exists(),
              "count", names == null ? -1 : names.length));
        }

        private static String read(Reader in) throws IOException {
          StringBuilder sb = new StringBuilder();
          for (int c; (c = in.read()) >= 0; ) sb.append((char) c);
          return sb.toString();
        }
      }
      """;

  @TempDir Path work;
  private Path tmpA;
  private Path tmpB;
  private String id;
  // compiled once for the class: javac is the slow part of these tests
  private static byte[] zip;

  @BeforeEach
  void setUp() throws IOException {
    tmpA = Files.createDirectories(work.resolve("env-a"));
    tmpB = Files.createDirectories(work.resolve("env-b"));
    id = "embla-tmp-test-" + UUID.randomUUID();
    if (zip == null) {
      zip = JavaFunctions.zipOf("demo.Routes", ROUTES);
    }
  }

  @Test
  void everyRewrittenRoute_landsInTheEnvironmentsOwnTmp_andNothingInTheHostsTmp() throws IOException {
    ExecutionEnvironment env = start(prepare(zip, work, "demo.Routes::handle"), new Fixtures.Env(tmpA));

    Map<String, String> r = JSON.readValue(invoke(env, "\"" + id + "\""), new TypeReference<Map<String, String>>() {});

    String a = tmpA.toString();
    assertThat(r.get("File(String)")).isEqualTo(a + "/" + id + "-file");
    assertThat(r.get("File(String,String)")).isEqualTo(a + "/" + id + "-pc");
    assertThat(r.get("File(File,String)")).isEqualTo(a + "/" + id + "-fc");
    assertThat(r.get("File(URI)")).isEqualTo(a + "/" + id + "-uri");
    assertThat(r.get("Path.of")).isEqualTo(a + "/" + id + "-pathof");
    assertThat(r.get("Path.of(URI)")).isEqualTo(a + "/" + id + "-puri");
    assertThat(r.get("Paths.get")).isEqualTo(a + "/" + id + "-paths");
    assertThat(r.get("FileSystem.getPath")).isEqualTo(a + "/" + id + "-fs");
    assertThat(r.get("zip FileSystem.getPath")).as("another file system's /tmp is its own").isEqualTo("/tmp/inside");
    assertThat(tmpA.resolve(id + ".zip")).exists();
    assertThat(r.get("Files.readString")).isEqualTo("nio");
    assertThat(r.get("FileInputStream")).isEqualTo("xy");
    assertThat(r.get("FileReader")).isEqualTo("abc");
    assertThat(r.get("FileReader(cs)")).isEqualTo("d");
    for (String key : new String[] {"File.createTempFile", "File.createTempFile(null)", "Files.createTempFile",
        "Files.createTempDirectory"}) {
      assertThat(Path.of(r.get(key)).getParent()).as(key).isEqualTo(tmpA);
      assertThat(Path.of(r.get(key))).as(key).exists();
    }
    assertThat(r.get("java.io.tmpdir")).isEqualTo(a);
    assertThat(r.get("java.io.tmpdir(default)")).isEqualTo(a);
    assertThat(r.get("/tmp")).isEqualTo(a);
    // a remapping of /tmp, not a confinement: other paths are the host's, and relative ones stay relative
    assertThat(r.get("elsewhere")).isEqualTo("/var/" + id);
    assertThat(r.get("escape")).isEqualTo("/tmp/../etc/" + id);
    assertThat(r.get("relative")).isEqualTo("tmp/" + id);

    // the bytes are where the function believes /tmp is
    assertThat(Files.readString(tmpA.resolve(id + "-raf"))).isEqualTo("raf");
    assertThat(Files.readString(tmpA.resolve(id + "-pw"))).isEqualTo("pw");
    assertThat(Files.readString(tmpA.resolve(id + "-ps"))).isEqualTo("ps");
    assertThat(Files.readString(tmpA.resolve(id + "-fmt"))).isEqualTo("42");
    assertThat(r.get("list").split(",")).contains(id + "-file", id + "-fos", id + "-fw", id + "-nio")
        .allMatch(name -> name.startsWith(id) || name.startsWith("ctf") || name.startsWith("nio"));
    try (Stream<Path> hostTmp = Files.list(Path.of("/tmp"))) {
      assertThat(hostTmp.map(p -> p.getFileName().toString())).noneMatch(name -> name.startsWith(id));
    }
  }

  @Test
  void twoEnvironments_doNotSeeEachOthersTmp() {
    PreparedFunction f = prepare(zip, work, "demo.Routes::handle");
    ExecutionEnvironment a = start(f, new Fixtures.Env(tmpA));
    invoke(a, "\"" + id + "\"");

    PreparedFunction peek = prepare(zip, work, "demo.Routes::peek");
    ExecutionEnvironment b = start(peek, new Fixtures.Env(tmpB));
    ExecutionEnvironment alsoA = start(peek, new Fixtures.Env(tmpA));

    assertThat(invoke(b, "\"" + id + "\"")).isEqualTo("{\"count\":0,\"exists\":false}");
    assertThat(invoke(alsoA, "\"" + id + "\"")).contains("\"exists\":true");
  }

  @Test
  void afterShutdown_aLeftoverThreadCannotReachTheDeletedTmp() throws Exception {
    // The function parks a thread that touches /tmp only once told to, after its environment was shut down.
    byte[] lingering = JavaFunctions.zipOf("demo.Linger", """
        package demo;
        import java.io.File;
        import java.util.concurrent.*;
        public class Linger {
          public static final CompletableFuture<String> OUTCOME = new CompletableFuture<>();
          static final CountDownLatch GO = new CountDownLatch(1);
          static final CountDownLatch WAITING = new CountDownLatch(1);
          public String handle(String s) throws InterruptedException {
            Thread t = new Thread(() -> {
              try {
                WAITING.countDown();
                GO.await(); // never counted down: only the Shutdown interrupt ends this wait
              } catch (InterruptedException e) {
                // the Shutdown interrupt: carry on and try /tmp anyway
              }
              try {
                OUTCOME.complete(new File("/tmp/late").getPath());
              } catch (Throwable e) {
                OUTCOME.complete(e.getClass().getName() + ": " + e.getMessage());
              }
            });
            t.setDaemon(true);
            t.start();
            // Past its entry poll before Shutdown cancels the loader; otherwise that poll would stop it first.
            WAITING.await();
            return "started";
          }
        }""");
    PreparedFunction f = prepare(lingering, work, "demo.Linger::handle");
    Fixtures.Env context = new Fixtures.Env(tmpA);
    JavaEnvironment env = (JavaEnvironment) start(f, context);
    assertThat(invoke(env, "\"start\"")).isEqualTo("\"started\"");
    Class<?> linger = env.loader().loadClass("demo.Linger");
    Object outcome = linger.getField("OUTCOME").get(null);

    env.shutdown(Duration.ofSeconds(1));

    // Shutdown interrupted the thread (its context loader is the function's); it then asks for /tmp, is refused,
    // and nothing is created where the environment's /tmp was.
    String result = (String) ((CompletableFuture<?>) outcome).get(10, TimeUnit.SECONDS);
    assertThat(result).isEqualTo("java.lang.IllegalStateException: execution environment "
        + context.environmentId() + " is shut down; its /tmp is gone");
    assertThat(tmpA.resolve("late")).doesNotExist();
  }

  @Test
  void noEnvironment_noTmp_neverTheHosts() {
    start(prepare(zip, work, "demo.Routes::peek"), new Fixtures.Env(tmpA)); // installs the engine's hooks
    // A forged caller outside any phase: no environment on this thread, a JDK class as caller.
    assertThatThrownBy(() -> Sandbox.tmpPath("/tmp/x", String.class))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("runs in none");
    assertThatThrownBy(() -> Sandbox.getProperty("java.io.tmpdir", String.class))
        .isInstanceOf(IllegalStateException.class);
    // paths elsewhere never need an environment
    assertThat(Sandbox.tmpPath("/var/x", String.class)).isEqualTo("/var/x");
    assertThat(Sandbox.tmpPath("/tmpfoo/x", String.class)).isEqualTo("/tmpfoo/x");
    assertThat(Sandbox.tmpPath((String) null, String.class)).isNull();
  }
}
