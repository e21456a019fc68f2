/**
 * The Embla engine. Exports only its public API ({@code dev.embla.faas}); everything under
 * {@code dev.embla.faas.internal} stays inside the module.
 */
module dev.embla.faas.core {
  requires transitive dev.embla.faas.spi;
  requires org.slf4j;
  requires com.google.common;
  requires tools.jackson.databind;
  requires org.objectweb.asm;
  requires org.objectweb.asm.commons;
  requires com.cronutils;
  requires rocksdbjni;
  requires java.management;
  requires jdk.management;

  exports dev.embla.faas;

  uses dev.embla.faas.spi.runtime.RuntimeProvider;
  provides dev.embla.faas.spi.runtime.RuntimeProvider with dev.embla.faas.internal.java.JavaRuntimeProvider;
}
