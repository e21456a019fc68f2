package dev.embla.faas.internal.java;

import static dev.embla.faas.internal.java.Fixtures.invoke;
import static dev.embla.faas.internal.java.Fixtures.prepare;
import static dev.embla.faas.internal.java.Fixtures.start;
import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.testing.JavaFunctions;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every way function code can obtain a class loader leads to its own loader or the JDK's, never the host's. */
@Timeout(30)
class ClassLoaderIsolationTest {

  @TempDir Path tmp;

  @Test
  void everyRouteToAClassLoader_failsToLoadHostOrEngineClasses() throws Exception {
    // The classes exist for the host: the routes below would find them through the host's loaders.
    Class.forName("com.google.common.collect.ImmutableList");
    Class.forName("dev.embla.faas.internal.engine.LocalEngine");

    String result = invoke(start(prepare(JavaFunctions.builder()
        .source("demo.Routes", ROUTES)
        .resource("own.txt", "mine")
        .zip(), tmp, "demo.Routes::handle"), new Fixtures.Env(tmp)), "\"\"");

    assertThat(result).isEqualTo(
        "[\"routes=true\",\"own=true\",\"resource=true\",\"systemResource=true\",\"ownClass=true\"]");
  }

  private static final String ROUTES = """
        package demo;
        import dev.embla.faas.spi.Context;
        import dev.embla.faas.spi.RequestHandler;
        import java.net.URL;
        import java.net.URLClassLoader;
        import java.util.*;
        import java.util.concurrent.CompletableFuture;
        public class Routes {
          public List<String> handle(String ignored, Context ctx) throws Exception {
            Map<String, ClassLoader> routes = new LinkedHashMap<>();
            routes.put("spi", RequestHandler.class.getClassLoader());
            routes.put("context", ctx.getClass().getClassLoader());
            routes.put("system", ClassLoader.getSystemClassLoader());
            routes.put("tccl", Thread.currentThread().getContextClassLoader());
            ClassLoader[] started = new ClassLoader[1];
            Thread t = new Thread(() -> started[0] = Thread.currentThread().getContextClassLoader());
            t.start();
            t.join();
            routes.put("startedThread", started[0]);
            routes.put("commonPool",
                CompletableFuture.supplyAsync(() -> Thread.currentThread().getContextClassLoader()).get());
            routes.put("module", RequestHandler.class.getModule().getClassLoader());
            routes.put("protectionDomain", RequestHandler.class.getProtectionDomain().getClassLoader());
            routes.put("parent", Routes.class.getClassLoader().getParent());
            routes.put("urlClassLoader", new URLClassLoader(new URL[0]));
            routes.put("urlClassLoaderParent", URLClassLoader.newInstance(new URL[0]).getParent());
            routes.put("subclass", new ClassLoader() {});
            int i = 0;
            for (Thread other : Thread.getAllStackTraces().keySet()) {
              routes.put("thread" + i++, other.getContextClassLoader());
            }
            List<String> leaks = new ArrayList<>();
            for (Map.Entry<String, ClassLoader> route : routes.entrySet()) {
              for (String name : List.of(
                  "com.google.common.collect.ImmutableList", "dev.embla.faas.internal.engine.LocalEngine")) {
                try {
                  Class.forName(name, false, route.getValue());
                  leaks.add(route.getKey() + ":" + name);
                } catch (ClassNotFoundException expected) {
                }
                if (route.getValue() != null) {
                  try {
                    route.getValue().loadClass(name);
                    leaks.add(route.getKey() + ".loadClass:" + name);
                  } catch (ClassNotFoundException expected) {
                  }
                }
              }
            }
            leaks.add("routes=" + (routes.size() > 12));
            leaks.add("own=" + (ClassLoader.getSystemClassLoader() == Routes.class.getClassLoader()));
            leaks.add("resource=" + (ClassLoader.getSystemClassLoader().getResource("own.txt") != null));
            leaks.add("systemResource=" + (ClassLoader.getSystemResource("own.txt") != null));
            try {
              leaks.add("ownClass=" + (ctx.getClass().getClassLoader().loadClass("demo.Routes") == Routes.class));
            } catch (ClassNotFoundException e) {
              leaks.add("ownClass=" + e);
            }
            return leaks;
          }
        }""";
}
