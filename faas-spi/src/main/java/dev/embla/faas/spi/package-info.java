/**
 * The handler contracts a Java function compiles against: {@link dev.embla.faas.spi.RequestHandler},
 * {@link dev.embla.faas.spi.StreamHandler} and the invocation {@link dev.embla.faas.spi.Context}.
 * This package depends on the JDK only; functions may bundle it or not, the engine supplies its own copy.
 */
package dev.embla.faas.spi;
