package dev.embla.faas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AliasConfigTest {

  @ParameterizedTest
  @ValueSource(strings = {"live", "prod-2", "canary_1", "v1", "0x", "a"})
  void name_acceptsLambdaAliasNames(String name) {
    assertThat(AliasConfig.builder(name).functionVersion("1").build().name()).isEqualTo(name);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "12", "0", "$LATEST", "a b", "a:b", "ü"})
  void name_refusesWhatLambdaRefuses(String name) {
    assertThatThrownBy(() -> AliasConfig.builder(name).functionVersion("1").build())
        .isInstanceOf(InvalidConfigurationException.class)
        .hasMessage("alias name must be 1..128 characters of [a-zA-Z0-9_-] and not all digits, was '" + name + "'");
  }

  @Test
  void name_isAtMost128Characters() {
    assertThat(AliasConfig.builder("a".repeat(128)).functionVersion("1").build().name()).hasSize(128);
    assertThatThrownBy(() -> AliasConfig.builder("a".repeat(129)).functionVersion("1").build())
        .isInstanceOf(InvalidConfigurationException.class);
    assertThatThrownBy(() -> AliasConfig.builder(null).functionVersion("1").build())
        .isInstanceOf(InvalidConfigurationException.class);
  }

  @Test
  void functionVersion_isLatestOrANumber_andRequired() {
    assertThat(AliasConfig.builder("dev").functionVersion("$LATEST").build().functionVersion()).isEqualTo("$LATEST");
    assertThatThrownBy(() -> AliasConfig.builder("dev").functionVersion("live"))
        .isInstanceOf(InvalidConfigurationException.class)
        .hasMessage("functionVersion must be $LATEST or a version number, was 'live'");
    assertThatThrownBy(() -> AliasConfig.builder("dev").build()).isInstanceOf(InvalidConfigurationException.class)
        .hasMessage("functionVersion of alias 'dev' must be set");
  }

  @Test
  void weights_oneAdditionalPublishedVersionWithAWeightBetweenZeroAndOne() {
    AliasConfig canary = AliasConfig.builder("c").functionVersion("1").additionalVersionWeight("2", 0.25).build();
    assertThat(canary.additionalVersionWeights()).containsExactlyEntriesOf(java.util.Map.of("2", 0.25));
    assertThat(canary.toBuilder().build()).isEqualTo(canary);
    assertThat(canary.toBuilder().clearAdditionalVersionWeights().build().additionalVersionWeights()).isEmpty();

    assertThatThrownBy(() -> AliasConfig.builder("c").additionalVersionWeight("2", 1.5))
        .isInstanceOf(InvalidConfigurationException.class).hasMessage(
            "additional version weight must be 0.0..1.0, was 1.5");
    assertThatThrownBy(() -> AliasConfig.builder("c").additionalVersionWeight("2", Double.NaN))
        .isInstanceOf(InvalidConfigurationException.class);
    assertThatThrownBy(() -> AliasConfig.builder("c").additionalVersionWeight("$LATEST", 0.5))
        .isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("published version number");
    assertThatThrownBy(() -> AliasConfig.builder("c").functionVersion("2").additionalVersionWeight("2", 0.5).build())
        .isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("must differ from its version");
    assertThatThrownBy(() -> AliasConfig.builder("c").functionVersion("$LATEST").additionalVersionWeight("2", 0.5)
        .build()).isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("was $LATEST");
  }

  @Test
  void description_isAtMost256Characters() {
    assertThatThrownBy(() -> AliasConfig.builder("c").description("x".repeat(257)))
        .isInstanceOf(InvalidConfigurationException.class).hasMessageContaining("was 257");
  }
}
