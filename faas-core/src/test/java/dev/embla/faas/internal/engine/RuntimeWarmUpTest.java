package dev.embla.faas.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.FaasEngine;
import dev.embla.faas.spi.runtime.FunctionDefinition;
import dev.embla.faas.spi.runtime.PreparedFunction;
import dev.embla.faas.spi.runtime.RuntimeProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code FaasEngine.Builder#warmUpRuntime}: the named runtimes are warm before {@code build()} returns. */
class RuntimeWarmUpTest {

  @TempDir Path dir;

  /** A runtime that only counts its warm-ups and preparations. */
  static final class SlowStarter implements RuntimeProvider {
    final AtomicInteger warmUps = new AtomicInteger();
    final AtomicInteger prepared = new AtomicInteger();

    @Override
    public Set<String> runtimes() {
      return Set.of("slow", "slow2");
    }

    @Override
    public PreparedFunction prepare(FunctionDefinition definition) {
      prepared.incrementAndGet();
      throw new UnsupportedOperationException("not needed here");
    }

    @Override
    public void warmUp() {
      warmUps.incrementAndGet();
    }
  }

  @Test
  void build_warmsUpTheNamedRuntimeOnce_beforeAnyFunctionExists() {
    SlowStarter slow = new SlowStarter();
    try (FaasEngine engine = FaasEngine.builder().addRuntime(slow).warmUpRuntime("slow").build()) {
      assertThat(slow.warmUps).hasValue(1);
      assertThat(slow.prepared).hasValue(0);
      assertThat(engine.listFunctions()).isEmpty();
    }
  }

  @Test
  void build_withoutWarmUp_leavesTheRuntimeCold() {
    SlowStarter slow = new SlowStarter();
    try (FaasEngine ignored = FaasEngine.builder().addRuntime(slow).build()) {
      assertThat(slow.warmUps).hasValue(0);
    }
  }

  @Test
  void warmUp_ofARuntimeWithoutOne_isANoOp() {
    try (FaasEngine engine = FaasEngine.builder().warmUpRuntime("java21").build()) {
      assertThat(engine.listFunctions()).isEmpty();
    }
  }

  @Test
  void warmUp_ofAnUnknownRuntime_failsTheBuild_andLeavesNoWorkDirectory() {
    Path work = dir.resolve("work");
    assertThatThrownBy(() -> FaasEngine.builder().workDirectory(work).warmUpRuntime("cobol").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("warmUpRuntime must be one of [")
        .hasMessageContaining("java21")
        .hasMessageEndingWith("was 'cobol'");
    assertThat(Files.exists(work)).isFalse();
  }

  @Test
  void warmUpRuntime_validatesItsArgument() {
    FaasEngine.Builder builder = FaasEngine.builder().warmUpRuntime("slow");
    assertThatThrownBy(() -> builder.warmUpRuntime("slow"))
        .isInstanceOf(IllegalStateException.class).hasMessage("warmUpRuntime was already set for slow");
    assertThatThrownBy(() -> builder.warmUpRuntime(" "))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("warmUpRuntime must name a runtime, was ' '");
    assertThatThrownBy(() -> builder.warmUpRuntime(null)).isInstanceOf(NullPointerException.class);
  }
}
