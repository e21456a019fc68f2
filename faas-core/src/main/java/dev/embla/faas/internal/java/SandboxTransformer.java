package dev.embla.faas.internal.java;

import java.util.HashSet;
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
 *       {@code System.exit}, {@code Runtime.exit}, {@code Runtime.halt}, {@code System.getenv}, reads of
 *       {@code System.out}/{@code System.err}, {@code System.setOut}/{@code setErr}, no-argument
 *       {@code printStackTrace()} on any throwable, and {@code Runtime.add/removeShutdownHook}.
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
 * intercepted: {@code System::exit} taken as a method reference or called through reflection or {@code MethodHandles}.
 */
final class SandboxTransformer {

  static final String SANDBOX = "dev/embla/faas/spi/sandbox/Sandbox";

  private static final String CLASS = "Ljava/lang/Class;";

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
      String redirect = redirect(opcode, owner, name, descriptor);
      if (redirect == null) {
        super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
        return;
      }
      // Every redirect takes the original arguments (the receiver first for instance methods) plus the caller.
      pushCaller();
      super.visitMethodInsn(Opcodes.INVOKESTATIC, SANDBOX, redirect, sandboxDescriptor(opcode, owner, descriptor), false);
    }

    private String redirect(int opcode, String owner, String name, String descriptor) {
      if (opcode == Opcodes.INVOKESTATIC && owner.equals("java/lang/System")) {
        return switch (name + descriptor) {
          case "exit(I)V" -> "exit";
          case "getenv(Ljava/lang/String;)Ljava/lang/String;", "getenv()Ljava/util/Map;" -> "getenv";
          case "setOut(Ljava/io/PrintStream;)V", "setErr(Ljava/io/PrintStream;)V" -> "setStream";
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
      String receiver = opcode == Opcodes.INVOKESTATIC ? "" : (owner.equals("java/lang/Runtime")
          ? "Ljava/lang/Runtime;" : "Ljava/lang/Throwable;");
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
