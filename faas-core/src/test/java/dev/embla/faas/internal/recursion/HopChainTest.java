package dev.embla.faas.internal.recursion;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HopChainTest {

  private static HopChain chain(String... functions) {
    HopChain c = HopChain.EMPTY;
    for (String f : functions) {
      c = c.plus(f);
    }
    return c;
  }

  @Test
  void encode_decode_roundTripsAChain() {
    HopChain c = chain("a", "b-1", "a", "c_2", "a");
    assertThat(c.encode()).isEqualTo("a=3,b-1=1,c_2=1");
    assertThat(HopChain.decode(c.encode())).isEqualTo(c);
    assertThat(HopChain.EMPTY.encode()).isEmpty();
    assertThat(HopChain.decode("")).isSameAs(HopChain.EMPTY);
    assertThat(HopChain.decode(null)).isSameAs(HopChain.EMPTY);
  }

  @Test
  void decode_malformedText_isNoChain() {
    String[] malformed = {"a", "=1", "a=", "a=x", "a=0", "a=-3", "a=1,", ",a=1", "a=1,a=2", "a=99999999999"};
    for (String bad : malformed) {
      assertThat(HopChain.decode(bad)).as(bad).isSameAs(HopChain.EMPTY);
    }
  }

  @Test
  void max_takesTheLargerCountPerFunction() {
    HopChain left = chain("a", "a", "a", "b");
    HopChain right = chain("c", "b", "b", "a");
    HopChain max = left.max(right);
    assertThat(max.count("a")).isEqualTo(3);
    assertThat(max.count("b")).isEqualTo(2);
    assertThat(max.count("c")).isEqualTo(1);
    assertThat(max.size()).isEqualTo(3);
    assertThat(right.max(left)).isEqualTo(HopChain.decode("c=1,b=2,a=3"));
    assertThat(left.max(HopChain.EMPTY)).isSameAs(left);
    assertThat(HopChain.EMPTY.max(right)).isSameAs(right);
    assertThat(left.count("a")).as("left unchanged").isEqualTo(3);
  }

  @Test
  void functionOf_dropsTheQualifier() {
    assertThat(HopChain.functionOf("hello")).isEqualTo("hello");
    assertThat(HopChain.functionOf("hello:live")).isEqualTo("hello");
    assertThat(HopChain.functionOf("hello:3")).isEqualTo("hello");
  }
}
