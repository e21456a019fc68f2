package dev.embla.faas.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Compiles Java function sources in memory and packages them as a Lambda-shaped zip (classes at the root, extra
 * jars under {@code lib/}), so that tests can make functions with any behaviour, including two functions with the
 * same class name and different code.
 *
 * <pre>{@code
 * byte[] zip = JavaFunctions.builder()
 *     .source("demo.Echo", "package demo; public class Echo { public String handle(String s) { return s; } }")
 *     .zip();
 * }</pre>
 */
public final class JavaFunctions {

  private final Map<String, String> sources = new LinkedHashMap<>();
  private final Map<String, byte[]> resources = new LinkedHashMap<>();
  private final Map<String, Map<String, String>> libJars = new LinkedHashMap<>();

  private JavaFunctions() {}

  /** Starts a package. */
  public static JavaFunctions builder() {
    return new JavaFunctions();
  }

  /** Returns a zip with one class compiled from {@code source}. */
  public static byte[] zipOf(String className, String source) {
    return builder().source(className, source).zip();
  }

  /** Adds a source file for the class {@code className} (binary name, e.g. {@code demo.Echo}). */
  public JavaFunctions source(String className, String source) {
    sources.put(className, source);
    return this;
  }

  /** Adds a resource file at {@code path} in the package root. */
  public JavaFunctions resource(String path, String content) {
    resources.put(path, content.getBytes(StandardCharsets.UTF_8));
    return this;
  }

  /** Adds a jar {@code lib/<jarName>} holding the classes compiled from {@code libSources}. */
  public JavaFunctions libJar(String jarName, Map<String, String> libSources) {
    libJars.put(jarName, Map.copyOf(libSources));
    return this;
  }

  /** Compiles every source and returns the zip's bytes. */
  public byte[] zip() {
    Map<String, String> all = new LinkedHashMap<>(sources);
    libJars.values().forEach(all::putAll);
    Map<String, byte[]> classes = compile(all);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      Map<String, byte[]> root = new LinkedHashMap<>(classes);
      for (Map.Entry<String, Map<String, String>> jar : libJars.entrySet()) {
        Map<String, byte[]> jarClasses = new LinkedHashMap<>();
        for (String cls : jar.getValue().keySet()) {
          classes.forEach((name, b) -> {
            if (name.equals(cls) || name.startsWith(cls + "$")) {
              jarClasses.put(name, b);
              root.remove(name);
            }
          });
        }
        zip.putNextEntry(new ZipEntry("lib/" + jar.getKey()));
        zip.write(jarOf(jarClasses));
        zip.closeEntry();
      }
      for (Map.Entry<String, byte[]> c : root.entrySet()) {
        zip.putNextEntry(new ZipEntry(c.getKey().replace('.', '/') + ".class"));
        zip.write(c.getValue());
        zip.closeEntry();
      }
      for (Map.Entry<String, byte[]> r : resources.entrySet()) {
        zip.putNextEntry(new ZipEntry(r.getKey()));
        zip.write(r.getValue());
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static byte[] jarOf(Map<String, byte[]> classes) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream jar = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, byte[]> c : classes.entrySet()) {
        jar.putNextEntry(new ZipEntry(c.getKey().replace('.', '/') + ".class"));
        jar.write(c.getValue());
        jar.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  /**
   * Compiles sources against the test class path (so the SPI is available) and returns binary class name to bytes.
   */
  public static Map<String, byte[]> compile(Map<String, String> sources) {
    JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    if (compiler == null) {
      throw new IllegalStateException("tests need a JDK with javac, not a JRE");
    }
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    StandardJavaFileManager standard = compiler.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8);
    Map<String, ByteArrayOutputStream> out = new LinkedHashMap<>();
    JavaFileManager manager = new ForwardingJavaFileManager<>(standard) {
      @Override
      public JavaFileObject getJavaFileForOutput(
          Location location, String className, JavaFileObject.Kind kind, FileObject sibling) {
        return new SimpleJavaFileObject(URI.create("mem:///" + className.replace('.', '/') + ".class"), kind) {
          @Override
          public OutputStream openOutputStream() {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            out.put(className, b);
            return b;
          }
        };
      }
    };
    List<JavaFileObject> units = new ArrayList<>();
    sources.forEach((name, src) -> units.add(
        new SimpleJavaFileObject(URI.create("string:///" + name.replace('.', '/') + ".java"), JavaFileObject.Kind.SOURCE) {
          @Override
          public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return src;
          }
        }));
    List<String> options = List.of("--release", "21", "-proc:none", "-classpath", System.getProperty("java.class.path"));
    boolean ok = compiler.getTask(null, manager, diagnostics, options, null, units).call();
    if (!ok) {
      StringBuilder sb = new StringBuilder("function sources did not compile:");
      for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
        sb.append('\n').append(d);
      }
      throw new IllegalArgumentException(sb.toString());
    }
    Map<String, byte[]> result = new LinkedHashMap<>();
    out.forEach((k, v) -> result.put(k, v.toByteArray()));
    return result;
  }
}
