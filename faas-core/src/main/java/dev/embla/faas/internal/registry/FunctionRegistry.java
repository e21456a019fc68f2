package dev.embla.faas.internal.registry;

import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionNotFoundException;
import dev.embla.faas.ResourceConflictException;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The functions the engine knows, by name, each pointing at its current {@link FunctionVersion}. Reads are lock-free
 * (the invocation path reads one map entry); writes to one function are serialised on that function's name.
 */
public final class FunctionRegistry {

  /** Makes a new revision from a configuration and stored code: prepares the runtime and creates the pool. */
  @FunctionalInterface
  public interface VersionFactory {
    /** Creates the revision; throws a {@link dev.embla.faas.FaasException} if the runtime rejects it. */
    FunctionVersion create(FunctionConfig config, StoredCode code);
  }

  private final ConcurrentHashMap<String, FunctionVersion> functions = new ConcurrentHashMap<>();
  private final CodeStore codeStore;
  private final VersionFactory factory;
  private final Consumer<FunctionVersion> retire;

  /**
   * Creates a registry.
   *
   * @param retire called with a revision once it is replaced or deleted
   */
  public FunctionRegistry(CodeStore codeStore, VersionFactory factory, Consumer<FunctionVersion> retire) {
    this.codeStore = codeStore;
    this.factory = factory;
    this.retire = retire;
  }

  /** Creates a function; fails if the name is taken. */
  public FunctionVersion create(FunctionConfig config, FunctionCode code) {
    if (functions.containsKey(config.name())) {
      throw conflict(config.name());
    }
    StoredCode stored = codeStore.store(code);
    FunctionVersion version;
    try {
      version = createOrRelease(config, stored);
    } catch (CreateFailed f) {
      throw f.cause;
    }
    if (functions.putIfAbsent(config.name(), version) != null) {
      retire.accept(version);
      throw conflict(config.name());
    }
    return version;
  }

  /** Replaces a function's code. */
  public FunctionVersion updateCode(String name, FunctionCode code) {
    get(name);
    StoredCode stored = codeStore.store(code);
    try {
      return replace(name, current -> createOrRelease(current.config(), stored));
    } catch (RuntimeException e) {
      if (!(e instanceof CreateFailed)) {
        codeStore.release(stored); // the function vanished meanwhile
      }
      throw e instanceof CreateFailed f ? f.cause : e;
    }
  }

  /** Replaces a function's configuration. */
  public FunctionVersion updateConfiguration(FunctionConfig config) {
    try {
      return replace(config.name(), current -> {
        codeStore.retain(current.code());
        return createOrRelease(config, current.code());
      });
    } catch (CreateFailed f) {
      throw f.cause;
    }
  }

  /** Makes a revision; if that fails, gives back the code reference the revision would have owned. */
  private FunctionVersion createOrRelease(FunctionConfig config, StoredCode stored) {
    try {
      return factory.create(config, stored);
    } catch (RuntimeException e) {
      codeStore.release(stored);
      throw new CreateFailed(e);
    }
  }

  /** Carries a factory failure out of a map computation, marking that its code reference was given back. */
  private static final class CreateFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final RuntimeException cause;

    CreateFailed(RuntimeException cause) {
      super(cause.getMessage(), cause, false, false);
      this.cause = cause;
    }
  }

  private FunctionVersion replace(String name, java.util.function.Function<FunctionVersion, FunctionVersion> next) {
    FunctionVersion[] old = new FunctionVersion[1];
    FunctionVersion updated = functions.compute(name, (k, current) -> {
      if (current == null) {
        throw notFound(name);
      }
      old[0] = current;
      return next.apply(current);
    });
    retire.accept(old[0]);
    return updated;
  }

  /** Returns a function's current revision, or throws {@link FunctionNotFoundException}. */
  public FunctionVersion get(String name) {
    FunctionVersion v = functions.get(name);
    if (v == null) {
      throw notFound(name);
    }
    return v;
  }

  /** Returns a function's current revision, or null. */
  public FunctionVersion find(String name) {
    return functions.get(name);
  }

  /** Returns every function's current revision, ordered by name. */
  public List<FunctionVersion> list() {
    return functions.values().stream().sorted(Comparator.comparing(v -> v.config().name())).toList();
  }

  /** Deletes a function. */
  public void delete(String name) {
    FunctionVersion removed = functions.remove(name);
    if (removed == null) {
      throw notFound(name);
    }
    retire.accept(removed);
  }

  /** Removes every function, retiring each; for engine close. */
  public List<FunctionVersion> clear() {
    List<FunctionVersion> all = List.copyOf(functions.values());
    functions.clear();
    return all;
  }

  static FunctionNotFoundException notFound(String name) {
    return new FunctionNotFoundException("function not found: '" + name + "'");
  }

  private static ResourceConflictException conflict(String name) {
    return new ResourceConflictException("function already exists: '" + name + "'");
  }
}
