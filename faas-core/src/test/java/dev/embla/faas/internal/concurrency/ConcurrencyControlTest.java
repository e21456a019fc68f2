package dev.embla.faas.internal.concurrency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embla.faas.FunctionNotFoundException;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.TooManyRequestsException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The engine-wide limit holds across changes of reserved and provisioned concurrency made while invocations run:
 * permits held under the old figures count until they are given back.
 */
class ConcurrencyControlTest {

  private final ConcurrencyControl control = new ConcurrencyControl(new ConcurrencySettings(10, 0, Long.MAX_VALUE));
  private final List<PermitPool> held = new ArrayList<>();

  @BeforeEach
  void register() {
    for (String f : List.of("a", "b", "c")) {
      control.function(f); // what the engine does when a function's first revision is created
    }
  }

  /** Admits invocations of {@code function} until one is throttled; returns how many were admitted. */
  private int admitAll(String function) {
    int admitted = 0;
    while (true) {
      try {
        held.add(control.function(function).admit());
        admitted++;
      } catch (TooManyRequestsException e) {
        return admitted;
      }
    }
  }

  /** Ends the {@code n} oldest invocations still running. */
  private void release(int n) {
    for (int i = 0; i < n; i++) {
      held.remove(0).release();
    }
  }

  @Test
  void droppingAReservation_whileItsInvocationsRun_keepsTheirPermitsCountedUntilTheyEnd() {
    control.putReserved("a", 5);
    assertThat(admitAll("a")).isEqualTo(5);
    control.deleteReserved("a");
    assertThat(admitAll("b")).isEqualTo(5); // not 10: a's five are still running
    release(5); // a's
    control.settle();
    assertThat(admitAll("b")).isEqualTo(5);
    assertThat(held).hasSize(10);
  }

  @Test
  void shrinkingAReservation_whileItsInvocationsRun_keepsTheExcessCounted() {
    control.putReserved("a", 8);
    assertThat(admitAll("a")).isEqualTo(8);
    control.putReserved("a", 2);
    assertThat(admitAll("b")).isEqualTo(2); // 10 - 8 running in a
    assertThat(admitAll("a")).isZero();
    release(7); // seven of a's
    control.settle();
    assertThat(admitAll("b")).isEqualTo(6); // 10 - 2 reserved - 2 of b's running
    assertThat(admitAll("a")).isEqualTo(1);
  }

  @Test
  void reserving_whileTheUnreservedPoolIsFull_withholdsTheNewPermitsUntilThoseInvocationsEnd() {
    assertThat(admitAll("b")).isEqualTo(10);
    control.putReserved("a", 4);
    assertThatThrownBy(() -> control.function("a").admit()).isInstanceOf(TooManyRequestsException.class)
        .hasMessageContaining("reserved concurrency of 4");
    release(3);
    control.settle();
    assertThat(admitAll("a")).isEqualTo(3);
    assertThat(admitAll("b")).isZero(); // b holds 7 of its 6: one more must end first
    release(1);
    control.settle();
    assertThat(admitAll("a")).isEqualTo(1);
    assertThat(admitAll("b")).isZero();
  }

  @Test
  void removingAFunction_whileItsInvocationsRun_keepsTheirPermitsCounted() {
    control.putProvisioned("a", 3);
    assertThat(admitAll("a")).isEqualTo(10); // three provisioned, then spill-over to the unreserved seven
    control.remove(control.function("a"));
    assertThat(admitAll("b")).isZero();
    release(3); // the provisioned ones
    control.settle();
    assertThat(admitAll("b")).isEqualTo(3);
  }

  @Test
  void aChangeThatRacedTheFunctionsDeletion_isRefused_andSetsNothingAside() {
    control.remove(control.function("a")); // deleteFunction won the race: the engine had checked the registry before
    assertThatThrownBy(() -> control.putReserved("a", 5)).isInstanceOf(FunctionNotFoundException.class);
    assertThatThrownBy(() -> control.putProvisioned("a", 3)).isInstanceOf(FunctionNotFoundException.class);
    assertThat(control.unreservedConcurrency()).isEqualTo(10);
    assertThat(admitAll("b")).isEqualTo(10);
    control.function("a"); // created again under the same name: it inherits nothing
    assertThat(control.reserved("a")).isEmpty();
  }

  @Test
  void neverMoreThanTheLimit_whileThreadsInvokeAndTheFiguresChangeUnderThem() throws Exception {
    // Admission takes no lock: invocations race the changes, and the count of those running is checked at every
    // admission (the invariant; the interleavings are the scheduler's).
    AtomicInteger running = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> callers = new ArrayList<>();
    for (String f : List.of("a", "a", "b", "c")) {
      callers.add(Thread.ofPlatform().start(() -> {
        while (!stop.get()) {
          PermitPool p;
          try {
            p = control.function(f).admit();
          } catch (TooManyRequestsException | FunctionNotFoundException e) {
            Thread.onSpinWait();
            continue;
          }
          most.accumulateAndGet(running.incrementAndGet(), Math::max);
          Thread.onSpinWait();
          running.decrementAndGet();
          p.release();
        }
      }));
    }
    java.util.Random random = new java.util.Random(7);
    long end = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1_500);
    while (System.nanoTime() < end) {
      String f = List.of("a", "b").get(random.nextInt(2));
      try {
        switch (random.nextInt(4)) {
          case 0 -> control.putReserved(f, random.nextInt(6));
          case 1 -> control.deleteReserved(f);
          case 2 -> control.putProvisioned(f, random.nextInt(4));
          default -> control.settle();
        }
      } catch (InvalidConfigurationException e) {
        // a figure that does not fit: refused
      }
    }
    stop.set(true);
    for (Thread t : callers) {
      t.join();
    }
    assertThat(most.get()).isPositive().isLessThanOrEqualTo(10);
  }

  @Test
  void neverMoreThanTheLimit_acrossRandomChangesWhileInvocationsRun() {
    java.util.Random random = new java.util.Random(42);
    String[] functions = {"a", "b", "c"};
    for (int step = 0; step < 2_000; step++) {
      String f = functions[random.nextInt(functions.length)];
      try {
        switch (random.nextInt(7)) {
          case 0 -> control.putReserved(f, random.nextInt(5));
          case 1 -> control.deleteReserved(f);
          case 2 -> control.putProvisioned(f, random.nextInt(3));
          case 3 -> {
            control.remove(control.function(f));
            control.function(f); // created again under the same name
          }
          case 4 -> admitAll(f);
          case 5 -> release(random.nextInt(held.size() + 1));
          default -> control.settle();
        }
      } catch (InvalidConfigurationException e) {
        // a figure that does not fit: refused, and nothing changed
      }
      assertThat(held.size()).as("running after step %d", step).isLessThanOrEqualTo(10);
    }
  }
}
