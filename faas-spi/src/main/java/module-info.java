/**
 * Embla's contracts: what a Java function compiles against ({@link dev.embla.faas.spi.RequestHandler},
 * {@link dev.embla.faas.spi.StreamHandler}, {@link dev.embla.faas.spi.Context}), what a runtime plugs in through
 * ({@code dev.embla.faas.spi.runtime}) and what an event source plugs in through ({@code dev.embla.faas.spi.source}).
 * Depends on the JDK alone.
 */
module dev.embla.faas.spi {
  requires jdk.unsupported; // sun.misc.Signal, which the sandbox refuses to functions

  exports dev.embla.faas.spi;
  exports dev.embla.faas.spi.runtime;
  exports dev.embla.faas.spi.source;
  exports dev.embla.faas.spi.destination;
  exports dev.embla.faas.spi.sandbox;
}
