package dev.embla.faas.internal.java;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassTooLargeException;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodTooLargeException;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * Rewrites a function's class bytes before they are defined, once per version.
 *
 * <ul>
 *   <li>Preemption: {@code Sandbox.poll(ThisClass.class)} at every method entry and before every backward jump
 *       (loop back-edges, including backward {@code tableswitch}/{@code lookupswitch} targets). The poll is one
 *       volatile read while no environment is cancelled; once one is, it asks the engine whether the caller's own
 *       environment was cancelled and throws {@link InvocationCancelledError} if so.
 *   <li>Process-wide calls go to {@code dev.embla.faas.spi.sandbox.Sandbox} with the calling class appended:
 *       {@code System.exit}, {@code Runtime.exit}, {@code Runtime.halt}, {@code sun.misc.Signal.raise} and
 *       {@code handle}, {@code System.getenv}, reads of
 *       {@code System.out}/{@code System.err}, {@code System.setOut}/{@code setErr}, no-argument
 *       {@code printStackTrace()} on any throwable, {@code Runtime.add/removeShutdownHook}, and
 *       {@code ClassLoader.getSystemClassLoader()}/{@code getSystemResource(s)}/{@code getSystemResourceAsStream}
 *       (the function's own loader stands in for the system class loader).
 *   <li>Class loaders: the result of every no-argument {@code getClassLoader()}, {@code getContextClassLoader()} and
 *       {@code getParent()} returning a {@code ClassLoader} (on {@code Class}, {@code Thread}, {@code ClassLoader},
 *       {@code Module}, {@code ProtectionDomain}, ...) passes through {@code Sandbox.classLoader}, which replaces a
 *       host or engine loader with the function's own. Constructors that would make the system class loader a new
 *       loader's parent ({@code new ClassLoader()}, {@code new SecureClassLoader()}, {@code new URLClassLoader(urls)},
 *       {@code URLClassLoader.newInstance(urls)}) get the function's own loader as parent instead.
 *   <li>A private {@code /tmp}: file names that the function hands to the JDK are re-rooted in the environment's own
 *       directory when they name {@code /tmp} or a path below it. The {@code String} file name of {@code new File},
 *       {@code FileInputStream}, {@code FileOutputStream}, {@code FileReader}, {@code FileWriter},
 *       {@code RandomAccessFile}, {@code PrintStream}, {@code PrintWriter} and {@code Formatter} passes through
 *       {@code Sandbox.tmpPath} before the constructor runs; {@code new File(String, String)},
 *       {@code new File(File, String)} and {@code new File(URI)} become {@code new File(Sandbox.tmpPath(...))};
 *       {@code Path.of}, {@code Paths.get}, {@code FileSystem.getPath}, {@code File.createTempFile},
 *       {@code Files.createTempFile/createTempDirectory} without a directory, and
 *       {@code System.getProperty("java.io.tmpdir")} go to {@code Sandbox}. This is a remapping of names, not a
 *       confinement: other paths, relative paths, and paths built by other routes ({@code Path.resolve} from
 *       {@code /}, reflection, {@code System.getProperties()}) reach the host's file system as before.
 * </ul>
 *
 * <p>Inserted code leaves the operand stack as it found it and never touches locals, so no stack map frame changes:
 * {@link ClassWriter#COMPUTE_MAXS} suffices and no class outside the function is ever loaded to compute frames.
 * Classes older than version 49 cannot load class constants and pass {@code null}; the engine then falls back to
 * the environment running on the current thread.
 *
 * <p>What cannot be preempted: code that does not reach a poll. That is a blocking native call, or a long loop inside
 * the JDK (a huge {@code Arrays.sort}, a regular expression backtracking). {@code Thread.sleep}, {@code Object.wait},
 * {@code LockSupport.park} and interruptible I/O end because cancel also interrupts the running thread; the function's
 * next poll then throws. Until such a call returns, the engine's watchdog still counts the invocation as running
 * (its timeout is reported; the environment is discarded), so the time is accounted for, not hidden. Also not
 * intercepted: these calls taken as method references ({@code System::exit}) or made through reflection or
 * {@code MethodHandles}; and code the function defines with class loaders of its own, which is not rewritten.
 */
final class SandboxTransformer {

  static final String SANDBOX = "dev/embla/faas/spi/sandbox/Sandbox";

  private static final String CLASS = "Ljava/lang/Class;";
  private static final String LOADER = "Ljava/lang/ClassLoader;";

  // No-argument instance methods returning a ClassLoader whose result is filtered, on any receiver type.
  private static final Set<String> LOADER_GETTERS =
      Set.of("getClassLoader", "getContextClassLoader", "getParent");

  // Constructors that make the system class loader the new loader's parent; each has a twin taking the parent last.
  private static final Set<String> IMPLICIT_PARENT = Set.of(
      "java/lang/ClassLoader()V", "java/security/SecureClassLoader()V", "java/net/URLClassLoader([Ljava/net/URL;)V");

  // File-opening constructors whose first argument is a String file name, with the number of (single-slot)
  // arguments that follow it on the operand stack: the name is mapped where it lies, then the constructor runs.
  private static final Map<String, Integer> TMP_NAME_FIRST = Map.ofEntries(
      Map.entry("java/io/File(Ljava/lang/String;)V", 0),
      Map.entry("java/io/FileInputStream(Ljava/lang/String;)V", 0),
      Map.entry("java/io/FileOutputStream(Ljava/lang/String;)V", 0),
      Map.entry("java/io/FileOutputStream(Ljava/lang/String;Z)V", 1),
      Map.entry("java/io/FileReader(Ljava/lang/String;)V", 0),
      Map.entry("java/io/FileReader(Ljava/lang/String;Ljava/nio/charset/Charset;)V", 1),
      Map.entry("java/io/FileWriter(Ljava/lang/String;)V", 0),
      Map.entry("java/io/FileWriter(Ljava/lang/String;Z)V", 1),
      Map.entry("java/io/FileWriter(Ljava/lang/String;Ljava/nio/charset/Charset;)V", 1),
      Map.entry("java/io/FileWriter(Ljava/lang/String;Ljava/nio/charset/Charset;Z)V", 2),
      Map.entry("java/io/RandomAccessFile(Ljava/lang/String;Ljava/lang/String;)V", 1),
      Map.entry("java/io/PrintStream(Ljava/lang/String;)V", 0),
      Map.entry("java/io/PrintStream(Ljava/lang/String;Ljava/lang/String;)V", 1),
      Map.entry("java/io/PrintStream(Ljava/lang/String;Ljava/nio/charset/Charset;)V", 1),
      Map.entry("java/io/PrintWriter(Ljava/lang/String;)V", 0),
      Map.entry("java/io/PrintWriter(Ljava/lang/String;Ljava/lang/String;)V", 1),
      Map.entry("java/io/PrintWriter(Ljava/lang/String;Ljava/nio/charset/Charset;)V", 1),
      Map.entry("java/util/Formatter(Ljava/lang/String;)V", 0),
      Map.entry("java/util/Formatter(Ljava/lang/String;Ljava/lang/String;)V", 1),
      Map.entry("java/util/Formatter(Ljava/lang/String;Ljava/lang/String;Ljava/util/Locale;)V", 2),
      Map.entry("java/util/Formatter(Ljava/lang/String;Ljava/nio/charset/Charset;Ljava/util/Locale;)V", 2));

  // File constructors whose file name is built from several arguments: Sandbox.tmpPath(same arguments) returns the
  // (mapped) path, and File(String) is called instead.
  private static final Set<String> TMP_FILE_JOINED = Set.of(
      "(Ljava/lang/String;Ljava/lang/String;)V", "(Ljava/io/File;Ljava/lang/String;)V", "(Ljava/net/URI;)V");

  private SandboxTransformer() {}

  /**
   * Returns the rewritten class.
   *
   * @param original the class file
   * @param isThrowable whether an internal class name denotes a {@link Throwable}, for {@code printStackTrace()}
   */
  static byte[] transform(byte[] original, Predicate<String> isThrowable) {
    ClassReader reader = new ClassReader(original);
    try {
      return rewrite(reader, isThrowable, true);
    } catch (MethodTooLargeException | ClassTooLargeException e) {
      // A method close to the 64 KB limit cannot take the polls; redirect its process-wide calls all the same.
      return rewrite(reader, isThrowable, false);
    }
  }

  private static byte[] rewrite(ClassReader reader, Predicate<String> isThrowable, boolean polls) {
    ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
    reader.accept(new SandboxClassVisitor(writer, isThrowable, polls), 0);
    return writer.toByteArray();
  }

  private static final class SandboxClassVisitor extends ClassVisitor {
    private final Predicate<String> isThrowable;
    private final boolean polls;
    private String owner;
    private boolean classConstants;

    SandboxClassVisitor(ClassVisitor next, Predicate<String> isThrowable, boolean polls) {
      super(Opcodes.ASM9, next);
      this.isThrowable = isThrowable;
      this.polls = polls;
    }

    @Override
    public void visit(int version, int access, String name, String signature, String superName, String[] interfaces) {
      owner = name;
      classConstants = (version & 0xFFFF) >= Opcodes.V1_5;
      super.visit(version, access, name, signature, superName, interfaces);
    }

    @Override
    public MethodVisitor visitMethod(
        int access, String name, String descriptor, String signature, String[] exceptions) {
      MethodVisitor next = super.visitMethod(access, name, descriptor, signature, exceptions);
      return next == null ? null : new SandboxMethodVisitor(next, this);
    }
  }

  private static final class SandboxMethodVisitor extends MethodVisitor {
    private final SandboxClassVisitor cls;
    // Labels already visited: a jump to one of them goes backwards.
    private final Set<Label> seen = new HashSet<>();

    SandboxMethodVisitor(MethodVisitor next, SandboxClassVisitor cls) {
      super(Opcodes.ASM9, next);
      this.cls = cls;
    }

    @Override
    public void visitCode() {
      super.visitCode();
      poll();
    }

    @Override
    public void visitLabel(Label label) {
      seen.add(label);
      super.visitLabel(label);
    }

    @Override
    public void visitJumpInsn(int opcode, Label label) {
      if (seen.contains(label)) {
        poll();
      }
      super.visitJumpInsn(opcode, label);
    }

    @Override
    public void visitTableSwitchInsn(int min, int max, Label dflt, Label... labels) {
      if (anyBackward(dflt, labels)) {
        poll();
      }
      super.visitTableSwitchInsn(min, max, dflt, labels);
    }

    @Override
    public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) {
      if (anyBackward(dflt, labels)) {
        poll();
      }
      super.visitLookupSwitchInsn(dflt, keys, labels);
    }

    @Override
    public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
      if (opcode == Opcodes.GETSTATIC && owner.equals("java/lang/System")
          && (name.equals("out") || name.equals("err")) && descriptor.equals("Ljava/io/PrintStream;")) {
        pushCaller();
        super.visitMethodInsn(Opcodes.INVOKESTATIC, SANDBOX, name, "(" + CLASS + ")Ljava/io/PrintStream;", false);
        return;
      }
      super.visitFieldInsn(opcode, owner, name, descriptor);
    }

    @Override
    public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
      if (opcode != Opcodes.INVOKESTATIC && descriptor.equals("()" + LOADER) && LOADER_GETTERS.contains(name)) {
        // Whatever the receiver's type (Class, Thread, ClassLoader, Module, ProtectionDomain, or a subclass or
        // unrelated type with a method of that shape), the loader returned passes through the engine's filter.
        super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
        pushCaller();
        super.visitMethodInsn(Opcodes.INVOKESTATIC, SANDBOX, "classLoader", "(" + LOADER + CLASS + ")" + LOADER, false);
        return;
      }
      if (opcode == Opcodes.INVOKESPECIAL && name.equals("<init>") && IMPLICIT_PARENT.contains(owner + descriptor)) {
        // A loader constructed without a parent would get the host's application loader as its parent: give it the
        // function's own loader instead (the same loader getSystemClassLoader() returns to the function).
        pushCaller();
        super.visitMethodInsn(Opcodes.INVOKESTATIC, SANDBOX, "getSystemClassLoader", "(" + CLASS + ")" + LOADER, false);
        super.visitMethodInsn(opcode, owner, name, descriptor.replace(")V", LOADER + ")V"), isInterface);
        return;
      }
      if (opcode == Opcodes.INVOKESTATIC && owner.equals("java/net/URLClassLoader") && name.equals("newInstance")
          && descriptor.equals("([Ljava/net/URL;)Ljava/net/URLClassLoader;")) {
        pushCaller();
        super.visitMethodInsn(Opcodes.INVOKESTATIC, SANDBOX, "getSystemClassLoader", "(" + CLASS + ")" + LOADER, false);
        super.visitMethodInsn(opcode, owner, name, "([Ljava/net/URL;" + LOADER + ")Ljava/net/URLClassLoader;", false);
        return;
      }
      if (opcode == Opcodes.INVOKESPECIAL && name.equals("<init>") && mapTmpConstructor(owner, descriptor)) {
        return;
      }
      String redirect = redirect(opcode, owner, name, descriptor);
      if (redirect == null) {
        super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
        return;
      }
      // Every redirect takes the original arguments (the receiver first for instance methods) plus the caller.
      pushCaller();
      super.visitMethodInsn(Opcodes.INVOKESTATIC, SANDBOX, redirect, sandboxDescriptor(opcode, owner, descriptor), false);
    }

    /**
     * Maps the file name of a file-opening constructor through {@code Sandbox.tmpPath}, leaving the operand stack as
     * the constructor expects it; returns false if {@code owner.<init>descriptor} is not one of them.
     */
    private boolean mapTmpConstructor(String owner, String descriptor) {
      String tmpPath = "(Ljava/lang/String;" + CLASS + ")Ljava/lang/String;";
      Integer after = TMP_NAME_FIRST.get(owner + descriptor);
      if (after != null) {
        // Bring the name to the top of the stack, map it, and put it back under the arguments that follow it.
        switch (after) {
          case 0 -> {
            pushCaller();
            super.visitMethodInsn(Opcodes.INVOKESTATIC, SANDBOX, "tmpPath", tmpPath, false);
          }
          case 1 -> { // name, a
            super.visitInsn(Opcodes.SWAP); // a, name
            pushCaller();
            super.visitMethodInsn(Opcodes.INVOKESTATIC, SANDBOX, "tmpPath", tmpPath, false);
            super.visitInsn(Opcodes.SWAP); // name', a
          }
          default -> { // name, a, b
            super.visitInsn(Opcodes.DUP2_X1); // a, b, name, a, b
            super.visitInsn(Opcodes.POP2); // a, b, name
            pushCaller();
            super.visitMethodInsn(Opcodes.INVOKESTATIC, SANDBOX, "tmpPath", tmpPath, false);
            super.visitInsn(Opcodes.DUP_X2); // name', a, b, name'
            super.visitInsn(Opcodes.POP); // name', a, b
          }
        }
        super.visitMethodInsn(Opcodes.INVOKESPECIAL, owner, "<init>", descriptor, false);
        return true;
      }
      if (owner.equals("java/io/File") && TMP_FILE_JOINED.contains(descriptor)) {
        pushCaller();
        super.visitMethodInsn(Opcodes.INVOKESTATIC, SANDBOX, "tmpPath",
            descriptor.replace(")V", CLASS + ")Ljava/lang/String;"), false);
        super.visitMethodInsn(Opcodes.INVOKESPECIAL, owner, "<init>", "(Ljava/lang/String;)V", false);
        return true;
      }
      return false;
    }

    private String redirect(int opcode, String owner, String name, String descriptor) {
      if (opcode == Opcodes.INVOKESTATIC && owner.equals("java/lang/System")) {
        return switch (name + descriptor) {
          case "exit(I)V" -> "exit";
          case "getenv(Ljava/lang/String;)Ljava/lang/String;", "getenv()Ljava/util/Map;" -> "getenv";
          case "setOut(Ljava/io/PrintStream;)V", "setErr(Ljava/io/PrintStream;)V" -> "setStream";
          case "getProperty(Ljava/lang/String;)Ljava/lang/String;",
              "getProperty(Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String;" -> "getProperty";
          default -> null;
        };
      }
      if (opcode == Opcodes.INVOKESTATIC && (owner.equals("java/nio/file/Path") || owner.equals("java/nio/file/Paths"))
          && name.equals(owner.equals("java/nio/file/Path") ? "of" : "get")) {
        return switch (descriptor) {
          case "(Ljava/lang/String;[Ljava/lang/String;)Ljava/nio/file/Path;",
              "(Ljava/net/URI;)Ljava/nio/file/Path;" -> "pathOf";
          default -> null;
        };
      }
      if (opcode == Opcodes.INVOKEVIRTUAL && owner.equals("java/nio/file/FileSystem") && name.equals("getPath")
          && descriptor.equals("(Ljava/lang/String;[Ljava/lang/String;)Ljava/nio/file/Path;")) {
        return "getPath";
      }
      if (opcode == Opcodes.INVOKESTATIC && owner.equals("java/io/File") && name.equals("createTempFile")) {
        return "createTempFile"; // both overloads; with a directory, a null or /tmp one is mapped
      }
      if (opcode == Opcodes.INVOKESTATIC && owner.equals("java/nio/file/Files")) {
        return switch (name + descriptor) {
          case "createTempFile(Ljava/lang/String;Ljava/lang/String;[Ljava/nio/file/attribute/FileAttribute;)"
              + "Ljava/nio/file/Path;" -> "createTempFile";
          case "createTempDirectory(Ljava/lang/String;[Ljava/nio/file/attribute/FileAttribute;)Ljava/nio/file/Path;"
              -> "createTempDirectory";
          default -> null;
        };
      }
      if (opcode == Opcodes.INVOKESTATIC && owner.equals("java/lang/ClassLoader")) {
        return switch (name + descriptor) {
          case "getSystemClassLoader()Ljava/lang/ClassLoader;" -> "getSystemClassLoader";
          case "getSystemResource(Ljava/lang/String;)Ljava/net/URL;",
              "getSystemResourceAsStream(Ljava/lang/String;)Ljava/io/InputStream;",
              "getSystemResources(Ljava/lang/String;)Ljava/util/Enumeration;" -> name;
          default -> null;
        };
      }
      if (opcode == Opcodes.INVOKESTATIC && owner.equals("sun/misc/Signal")) {
        // A JDK class that ends the process on the function's behalf (raise), or takes the host's handlers (handle).
        return switch (name + descriptor) {
          case "raise(Lsun/misc/Signal;)V" -> "raise";
          case "handle(Lsun/misc/Signal;Lsun/misc/SignalHandler;)Lsun/misc/SignalHandler;" -> "handle";
          default -> null;
        };
      }
      if (opcode == Opcodes.INVOKEVIRTUAL && owner.equals("java/lang/Runtime")) {
        return switch (name + descriptor) {
          case "exit(I)V", "halt(I)V" -> "exit";
          case "addShutdownHook(Ljava/lang/Thread;)V" -> "addShutdownHook";
          case "removeShutdownHook(Ljava/lang/Thread;)Z" -> "removeShutdownHook";
          default -> null;
        };
      }
      if (opcode == Opcodes.INVOKEVIRTUAL && name.equals("printStackTrace") && descriptor.equals("()V")
          && !owner.startsWith("[") && cls.isThrowable.test(owner)) {
        return "printStackTrace";
      }
      return null;
    }

    private static String sandboxDescriptor(int opcode, String owner, String descriptor) {
      String receiver = opcode == Opcodes.INVOKESTATIC ? "" : switch (owner) {
        case "java/lang/Runtime", "java/nio/file/FileSystem" -> "L" + owner + ";";
        default -> "Ljava/lang/Throwable;";
      };
      Type method = Type.getMethodType(descriptor);
      StringBuilder sb = new StringBuilder("(").append(receiver);
      for (Type argument : method.getArgumentTypes()) {
        sb.append(argument.getDescriptor());
      }
      return sb.append(CLASS).append(')').append(method.getReturnType().getDescriptor()).toString();
    }

    private boolean anyBackward(Label dflt, Label[] labels) {
      if (seen.contains(dflt)) {
        return true;
      }
      for (Label l : labels) {
        if (seen.contains(l)) {
          return true;
        }
      }
      return false;
    }

    private void poll() {
      if (cls.polls) {
        pushCaller();
        super.visitMethodInsn(Opcodes.INVOKESTATIC, SANDBOX, "poll", "(" + CLASS + ")V", false);
      }
    }

    private void pushCaller() {
      if (cls.classConstants) {
        super.visitLdcInsn(Type.getObjectType(cls.owner));
      } else {
        super.visitInsn(Opcodes.ACONST_NULL);
      }
    }
  }
}
