package dev.embla.faas.internal.registry;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Where one exact function reference ({@code name}, {@code name:$LATEST}, {@code name:3}, {@code name:live}) leads:
 * the revision to run, a second one for a weighted alias, and the ARN the function sees as invoked. Immutable; the
 * registry replaces a route when its target changes, so an invocation that has picked a revision keeps it.
 */
public final class Route {

  private final FunctionVersion primary;
  private final FunctionVersion additional;
  private final double additionalWeight;
  private final String invokedArn;

  Route(FunctionVersion primary, FunctionVersion additional, double additionalWeight, String invokedArn) {
    this.primary = primary;
    this.additional = additional;
    this.additionalWeight = additionalWeight;
    this.invokedArn = invokedArn;
  }

  /** A route to one revision. */
  static Route to(FunctionVersion version, String invokedArn) {
    return new Route(version, null, 0, invokedArn);
  }

  /** Picks the revision for one invocation: the primary one, or for a weighted alias, by weight. */
  public FunctionVersion pick() {
    return additional == null ? primary : pick(ThreadLocalRandom.current().nextDouble());
  }

  /** Picks by a uniform draw in [0, 1): the additional revision when the draw falls under its weight. */
  FunctionVersion pick(double draw) {
    return additional != null && draw < additionalWeight ? additional : primary;
  }

  /** Returns the revision all traffic goes to, or the larger share of a weighted alias. */
  public FunctionVersion primary() {
    return primary;
  }

  /** Returns the ARN of the reference as invoked: the function's ARN, with the qualifier if one was given. */
  public String invokedArn() {
    return invokedArn;
  }
}
