package dev.embla.faas.internal.registry;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RouteTest {

  private final FunctionVersion one = new FunctionVersion(null, null, null, null, null);
  private final FunctionVersion two = new FunctionVersion(null, null, null, null, null);

  @Test
  void pick_sendsDrawsUnderTheWeightToTheAdditionalVersion() {
    Route canary = new Route(one, two, 0.25, "arn");
    assertThat(canary.pick(0.0)).isSameAs(two);
    assertThat(canary.pick(0.2499)).isSameAs(two);
    assertThat(canary.pick(0.25)).isSameAs(one);
    assertThat(canary.pick(0.9999)).isSameAs(one);
    assertThat(canary.primary()).isSameAs(one);
  }

  @Test
  void pick_weightZeroNeverAndWeightOneAlwaysPicksTheAdditionalVersion() {
    assertThat(new Route(one, two, 0.0, "arn").pick(0.0)).isSameAs(one);
    assertThat(new Route(one, two, 1.0, "arn").pick(0.99999)).isSameAs(two);
    assertThat(Route.to(one, "arn").pick()).isSameAs(one);
  }
}
