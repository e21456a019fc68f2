package dev.embla.faas.internal.java;

import static dev.embla.faas.internal.java.Fixtures.prepare;
import static dev.embla.faas.internal.java.Fixtures.start;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.spi.runtime.ExecutionEnvironment;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.testing.JavaFunctions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

class SandboxTransformerTest {

  @TempDir Path tmp;

  @Test
  void backwardSwitchTargets_getAPoll_forwardOnesDoNot() {
    byte[] cls = generate(Opcodes.V17, mv -> {
      Label top = new Label();
      Label out = new Label();
      mv.visitLabel(top);
      mv.visitFrame(Opcodes.F_SAME, 0, null, 0, null);
      mv.visitVarInsn(Opcodes.ILOAD, 0);
      mv.visitLookupSwitchInsn(out, new int[] {1}, new Label[] {top}); // backward: one poll
      mv.visitLabel(out);
      mv.visitFrame(Opcodes.F_SAME, 0, null, 0, null);
      mv.visitVarInsn(Opcodes.ILOAD, 0);
      Label after = new Label();
      mv.visitTableSwitchInsn(0, 0, after, after); // forward only: no poll
      mv.visitLabel(after);
      mv.visitFrame(Opcodes.F_SAME, 0, null, 0, null);
      mv.visitInsn(Opcodes.RETURN);
    });

    List<String> calls = sandboxCalls(SandboxTransformer.transform(cls, name -> false));

    assertThat(calls).containsExactly("ldc poll", "ldc poll"); // method entry + the backward lookupswitch
  }

  @Test
  void classesOlderThanJava5_passNullAsTheCaller() {
    byte[] cls = generate(Opcodes.V1_4, mv -> {
      mv.visitInsn(Opcodes.ICONST_1);
      mv.visitMethodInsn(Opcodes.INVOKESTATIC, "java/lang/System", "exit", "(I)V", false);
      mv.visitInsn(Opcodes.RETURN);
    });

    assertThat(sandboxCalls(SandboxTransformer.transform(cls, name -> false)))
        .containsExactly("null poll", "null exit");
  }

  @Test
  void printStackTrace_isRedirectedOnlyForThrowables() {
    byte[] cls = generate(Opcodes.V17, mv -> {
      mv.visitInsn(Opcodes.ACONST_NULL);
      mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "demo/MyError", "printStackTrace", "()V", false);
      mv.visitInsn(Opcodes.ACONST_NULL);
      mv.visitMethodInsn(Opcodes.INVOKEVIRTUAL, "demo/Printer", "printStackTrace", "()V", false);
      mv.visitInsn(Opcodes.RETURN);
    });

    assertThat(sandboxCalls(SandboxTransformer.transform(cls, name -> name.equals("demo/MyError"))))
        .containsExactly("ldc poll", "ldc printStackTrace");
  }

  @Test
  @Timeout(30)
  void cancel_stopsALoopInAPreJava5Class_throughTheCurrentEnvironment() throws Exception {
    byte[] zip = JavaFunctions.zipOf("demo.CallsOld", """
        package demo;
        public class CallsOld {
          public String handle(String s) throws Throwable {
            try {
              Class.forName("demo.Old").getMethod("spin").invoke(null);
            } catch (java.lang.reflect.InvocationTargetException e) {
              throw e.getCause();
            }
            return "returned";
          }
        }""");
    Path code = Fixtures.unzip(zip, tmp);
    Files.write(code.resolve("demo/Old.class"), generate(Opcodes.V1_4, "demo/Old", "spin", mv -> {
      Label top = new Label();
      mv.visitLabel(top);
      mv.visitJumpInsn(Opcodes.GOTO, top);
    }));
    PreparedFunction f = Fixtures.PROVIDER.prepare(Fixtures.definition(code, "demo.CallsOld::handle"));
    ExecutionEnvironment env = start(f, new Fixtures.Env(tmp));
    Thread watchdog = Thread.ofPlatform().start(() -> {
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        return;
      }
      env.cancel();
    });

    assertThatThrownBy(() -> Fixtures.invoke(env, "\"x\"")).isInstanceOf(CancellationException.class);
    watchdog.join();
  }

  @Test
  void transformation_happensOncePerVersion() {
    PreparedFunction f = prepare(JavaFunctions.zipOf("demo.Echo",
        "package demo; public class Echo { public String handle(String s) { return s; } }"), tmp, "demo.Echo::handle");
    CodePackage code = ((JavaPreparedFunction) f).code();
    CodePackage.Definition afterPrepare = code.definition("demo.Echo");

    start(f, new Fixtures.Env(tmp));
    start(f, new Fixtures.Env(tmp));

    assertThat(code.definition("demo.Echo")).isSameAs(afterPrepare);
  }

  private interface Body {
    void emit(MethodVisitor mv);
  }

  private static byte[] generate(int version, Body body) {
    return generate(version, "demo/Gen", "run", mv -> {
      mv.visitCode();
      body.emit(mv);
      mv.visitMaxs(0, 0);
    }, true);
  }

  private static byte[] generate(int version, String name, String method, Body body) {
    return generate(version, name, method, mv -> {
      mv.visitCode();
      body.emit(mv);
      mv.visitMaxs(0, 0);
    }, false);
  }

  private static byte[] generate(int version, String name, String method, Body body, boolean withArgument) {
    ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
    cw.visit(version, Opcodes.ACC_PUBLIC, name, null, "java/lang/Object", null);
    MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, method,
        withArgument ? "(I)V" : "()V", null, null);
    body.emit(mv);
    mv.visitEnd();
    cw.visitEnd();
    return cw.toByteArray();
  }

  // "ldc name" or "null name" for each call to Sandbox, by what was pushed as the caller just before
  private static List<String> sandboxCalls(byte[] cls) {
    List<String> calls = new ArrayList<>();
    new ClassReader(cls).accept(new ClassVisitor(Opcodes.ASM9) {
      @Override
      public MethodVisitor visitMethod(int access, String name, String d, String s, String[] e) {
        return new MethodVisitor(Opcodes.ASM9) {
          String last = "?";

          @Override
          public void visitLdcInsn(Object value) {
            last = "ldc";
          }

          @Override
          public void visitInsn(int opcode) {
            last = opcode == Opcodes.ACONST_NULL ? "null" : "?";
          }

          @Override
          public void visitMethodInsn(int opcode, String owner, String name, String desc, boolean itf) {
            if (owner.equals(SandboxTransformer.SANDBOX)) {
              calls.add(last + " " + name);
            }
            last = "?";
          }
        };
      }
    }, 0);
    return calls;
  }
}
