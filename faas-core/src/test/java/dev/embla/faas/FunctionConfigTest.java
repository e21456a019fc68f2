package dev.embla.faas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class FunctionConfigTest {

  private static FunctionConfig.Builder valid(String name) {
    return FunctionConfig.builder(name).runtime("java21").handler("demo.Echo::handle");
  }

  @Test
  void build_appliesLambdaDefaults() {
    FunctionConfig c = valid("echo").build();
    assertThat(c.memorySizeMb()).isEqualTo(128);
    assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(c.initTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.ephemeralStorageMb()).isEqualTo(512);
    assertThat(c.environment()).isEmpty();
  }

  @Test
  void build_rejectsBadNamesNamingTheValue() {
    assertThatThrownBy(() -> valid("bad name").build())
        .isInstanceOf(InvalidConfigurationException.class)
        .hasMessage("functionName must match [A-Za-z0-9_-]{1,64}, was 'bad name'");
    assertThatThrownBy(() -> valid("x".repeat(65)).build()).isInstanceOf(InvalidConfigurationException.class);
    assertThatThrownBy(() -> valid("").build()).isInstanceOf(InvalidConfigurationException.class);
    assertThat(valid("a-Z_09").build().name()).isEqualTo("a-Z_09");
  }

  @Test
  void setters_rejectOutOfRangeValuesNamingFieldAndValue() {
    assertThatThrownBy(() -> valid("f").memorySizeMb(64))
        .isInstanceOf(InvalidConfigurationException.class).hasMessage("memorySize must be 128..10240 MB, was 64");
    assertThatThrownBy(() -> valid("f").memorySizeMb(10241)).hasMessageContaining("was 10241");
    assertThatThrownBy(() -> valid("f").timeout(Duration.ofSeconds(901)))
        .hasMessage("timeout must be 1..900 whole seconds, was 901s");
    assertThatThrownBy(() -> valid("f").timeout(Duration.ZERO)).hasMessageContaining("timeout must be 1..900");
    assertThatThrownBy(() -> valid("f").timeout(Duration.ofMillis(1500))).hasMessageContaining("was 1500ms");
    assertThatThrownBy(() -> valid("f").ephemeralStorageMb(100))
        .hasMessage("ephemeralStorage must be 512..10240 MB, was 100");
    assertThatThrownBy(() -> valid("f").environment("1BAD", "x")).hasMessageContaining("'1BAD'");
    assertThatThrownBy(() -> valid("f").environment("AWS_REGION", "x")).hasMessageContaining("reserved");
  }

  @Test
  void build_rejectsEnvironmentOver4Kb() {
    FunctionConfig.Builder b = valid("f");
    for (int i = 0; i < 5; i++) {
      b.environment("K" + i, "v".repeat(1000));
    }
    assertThatThrownBy(b::build).isInstanceOf(InvalidConfigurationException.class)
        .hasMessageContaining("environment variables must total at most 4096 bytes, were 5010");
  }

  @Test
  void build_requiresRuntimeAndHandler() {
    assertThatThrownBy(() -> FunctionConfig.builder("f").handler("h").build()).hasMessageContaining("runtime");
    assertThatThrownBy(() -> FunctionConfig.builder("f").runtime("java21").build()).hasMessageContaining("handler");
  }

  @Test
  void toBuilder_derivesChangedCopy() {
    FunctionConfig a = valid("f").environment("A", "1").build();
    FunctionConfig b = a.toBuilder().memorySizeMb(256).build();
    assertThat(b.memorySizeMb()).isEqualTo(256);
    assertThat(b.environment()).containsEntry("A", "1");
    assertThat(a.memorySizeMb()).isEqualTo(128);
    assertThat(a).isNotEqualTo(b).isEqualTo(valid("f").environment("A", "1").build());
  }
}
