package dev.embla.faas.benchmarks.functions;

/** A function that never returns and never checks for interruption: only preemption can stop it. */
public class RunawayHandler {

  /** Loops forever. */
  public int handle(String input) {
    int p = 1_000_003;
    int x = input.length();
    while (x >= 0) {
      x = (x + 1) % p;
    }
    return x;
  }
}
