package dev.embla.faas.benchmarks;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The JavaScript drivers' argument checks; the measurements themselves run through {@code ./embla bench}. */
class JsDriversTest {

  @Test
  void footprint_refusesTooFewEnvironmentsForItsFigureToMeanAnything() {
    assertThatThrownBy(() -> JsDrivers.footprint(JsDrivers.MIN_FOOTPRINT - 1))
        .isInstanceOf(Drivers.UsageException.class)
        .hasMessageContaining("footprint-js needs at least 500 environments, was 499")
        .hasMessageContaining("one-time cost");
  }
}
