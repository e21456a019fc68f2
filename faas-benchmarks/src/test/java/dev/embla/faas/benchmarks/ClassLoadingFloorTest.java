package dev.embla.faas.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embla.faas.benchmarks.functions.HoldHandler;
import dev.embla.faas.spi.RequestHandler;
import org.junit.jupiter.api.Test;

class ClassLoadingFloorTest {

  @Test
  void everyColdStartDefinesTheHandlerInALoaderOfItsOwn() throws Exception {
    byte[] bytes = ClassLoadingFloor.handlerBytes();

    RequestHandler<Integer, long[]> first = ClassLoadingFloor.coldStart(bytes);
    RequestHandler<Integer, long[]> second = ClassLoadingFloor.coldStart(bytes);

    assertThat(first.getClass().getName()).isEqualTo(HoldHandler.class.getName());
    assertThat(first.getClass()).isNotSameAs(second.getClass()).isNotSameAs(HoldHandler.class);
    assertThat(first.getClass().getClassLoader()).isNotSameAs(second.getClass().getClassLoader())
        .isNotSameAs(HoldHandler.class.getClassLoader());
    // The handler contract is the application's, so the driver can call the handler without reflection.
    assertThat(first).isInstanceOf(RequestHandler.class);
  }

  @Test
  void theHandlerStampsItsEntryAndExit() throws Exception {
    long before = System.nanoTime();

    long[] stamps = ClassLoadingFloor.coldStart(ClassLoadingFloor.handlerBytes()).handle(0, null);

    assertThat(stamps).hasSize(2);
    assertThat(stamps[0]).isGreaterThanOrEqualTo(before);
    assertThat(stamps[1]).isGreaterThanOrEqualTo(stamps[0]);
  }
}
