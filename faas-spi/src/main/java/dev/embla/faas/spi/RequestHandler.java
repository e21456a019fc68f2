package dev.embla.faas.spi;

/**
 * A function that takes an event mapped from JSON and returns a result mapped back to JSON. The input type may be a
 * POJO, a record, a {@code Map}, a {@code List}, a {@code String} or a boxed primitive; the engine maps the payload with
 * the input type's generic signature.
 *
 * <p>One instance is created per execution environment (during Init) and called once per invocation, never by two
 * invocations at once unless the function opts into several invocations per environment.
 *
 * <p>Handlers need not implement this interface: any public class with a public method taking {@code (I)} or
 * {@code (I, Context)} works, named in the handler string as {@code com.acme.Thumbnail::handle}.
 *
 * @param <I> the event type
 * @param <O> the result type
 * @since 0.1
 */
@FunctionalInterface
public interface RequestHandler<I, O> {

  /**
   * Handles one event.
   *
   * @param input the event, mapped from the invocation's JSON payload
   * @param context the invocation's context
   * @return the result, mapped to the invocation's JSON response; {@code null} becomes JSON {@code null}
   */
  O handle(I input, Context context);
}
