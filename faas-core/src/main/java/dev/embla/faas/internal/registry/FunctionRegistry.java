package dev.embla.faas.internal.registry;

import dev.embla.faas.AliasConfig;
import dev.embla.faas.AliasInfo;
import dev.embla.faas.FunctionCode;
import dev.embla.faas.FunctionConfig;
import dev.embla.faas.FunctionNotFoundException;
import dev.embla.faas.InvalidConfigurationException;
import dev.embla.faas.ResourceConflictException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Consumer;

/**
 * The functions the engine knows, by name: each one's {@code $LATEST} revision, its published versions and its
 * aliases.
 *
 * <p>Concurrency: invocations resolve a reference with one read of {@link #route}'s map, keyed by the exact reference
 * text ({@code name}, {@code name:$LATEST}, {@code name:3}, {@code name:live}), so neither an unqualified nor a
 * qualified reference is parsed or locked on the warm path. That map is derived state: every change to a function
 * (create, update, publish, alias, delete) is made while holding that function's {@code FunctionState} monitor, which
 * also rewrites the affected routes, so writes to one function are serialised and writes to different functions do
 * not wait for each other. A reader may see a route a moment before or after the change that replaces it; either is
 * a revision that existed, never a half-made one. A route is removed only if it is still the one its function put
 * there, so deleting a function never removes the routes of a new function of the same name.
 */
public final class FunctionRegistry {

  /** Makes a new revision from a configuration and stored code: prepares the runtime and creates the pool. */
  @FunctionalInterface
  public interface VersionFactory {
    /**
     * Creates the revision; throws a {@link dev.embla.faas.FaasException} if the runtime rejects it.
     *
     * @param version {@code $LATEST} or the number of the version being published
     */
    FunctionVersion create(FunctionConfig config, StoredCode code, String version);
  }

  private final ConcurrentHashMap<String, FunctionState> functions = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Route> routes = new ConcurrentHashMap<>();
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

  /** One function's revisions and aliases. Written only while holding its monitor. */
  private static final class FunctionState {
    final String name;
    volatile FunctionVersion latest;
    /** Published versions by number, each with the {@code $LATEST} configuration it was published from. */
    final ConcurrentSkipListMap<Long, Published> versions = new ConcurrentSkipListMap<>();
    final ConcurrentSkipListMap<String, AliasConfig> aliases = new ConcurrentSkipListMap<>();
    /** The routes this function put into the shared map, so that they can be withdrawn exactly. */
    final Map<String, Route> ownRoutes = new HashMap<>();
    /** Version numbers are never reused, even after a version is deleted, as in Lambda. */
    long lastVersionNumber;
    boolean deleted;

    FunctionState(String name, FunctionVersion latest) {
      this.name = name;
      this.latest = latest;
    }
  }

  private record Published(FunctionVersion revision, FunctionConfig publishedFrom) {}

  // ---- $LATEST ----

  /** Creates a function; fails if the name is taken. */
  public FunctionVersion create(FunctionConfig config, FunctionCode code) {
    if (functions.containsKey(config.name())) {
      throw conflict(config.name());
    }
    StoredCode stored = codeStore.store(code);
    FunctionVersion latest = newRevision(config, stored, FunctionVersion.LATEST);
    FunctionState state = new FunctionState(config.name(), latest);
    synchronized (state) {
      if (functions.putIfAbsent(config.name(), state) != null) {
        retire.accept(latest);
        throw conflict(config.name());
      }
      routeLatest(state);
    }
    return latest;
  }

  /** Replaces a function's code ({@code $LATEST}). */
  public FunctionVersion updateCode(String name, FunctionCode code) {
    FunctionState state = state(name);
    StoredCode stored = codeStore.store(code);
    FunctionVersion old;
    FunctionVersion next;
    synchronized (state) {
      if (state.deleted) {
        codeStore.release(stored);
        throw notFound(name);
      }
      old = state.latest;
      next = newRevision(old.config(), stored, FunctionVersion.LATEST);
      state.latest = next;
      routeLatest(state);
    }
    retire.accept(old);
    return next;
  }

  /** Replaces a function's configuration ({@code $LATEST}). */
  public FunctionVersion updateConfiguration(FunctionConfig config) {
    FunctionState state = state(config.name());
    FunctionVersion old;
    FunctionVersion next;
    synchronized (state) {
      requireLive(state);
      old = state.latest;
      codeStore.retain(old.code());
      next = newRevision(config, old.code(), FunctionVersion.LATEST);
      state.latest = next;
      routeLatest(state);
    }
    retire.accept(old);
    return next;
  }

  /** Makes a revision that owns one reference to {@code stored}; if that fails, gives the reference back. */
  private FunctionVersion newRevision(FunctionConfig config, StoredCode stored, String version) {
    try {
      return factory.create(config, stored, version);
    } catch (RuntimeException e) {
      codeStore.release(stored);
      throw e;
    }
  }

  /** Points the unqualified name, {@code :$LATEST} and every alias of {@code $LATEST} at the current revision. */
  private void routeLatest(FunctionState state) {
    String arn = state.latest.pool().arnPrefix();
    putRoute(state, state.name, Route.to(state.latest, arn));
    putRoute(state, state.name + ":" + FunctionVersion.LATEST,
        Route.to(state.latest, arn + ":" + FunctionVersion.LATEST));
    for (AliasConfig alias : state.aliases.values()) {
      if (alias.functionVersion().equals(FunctionVersion.LATEST)) {
        putRoute(state, state.name + ":" + alias.name(), aliasRoute(state, alias));
      }
    }
  }

  // ---- versions ----

  /**
   * Publishes {@code $LATEST} as a new immutable version numbered one past the last ever published. If neither code
   * nor configuration changed since the last published version, returns that version instead, as Lambda does.
   *
   * @param description the version's description; null keeps the function's
   */
  public FunctionVersion publishVersion(String name, String description) {
    FunctionState state = state(name);
    synchronized (state) {
      requireLive(state);
      FunctionVersion latest = state.latest;
      Map.Entry<Long, Published> last = state.versions.lastEntry();
      if (last != null && last.getValue().publishedFrom().equals(latest.config())
          && last.getValue().revision().code().sha256().equals(latest.code().sha256())) {
        return last.getValue().revision();
      }
      long number = state.lastVersionNumber + 1;
      FunctionConfig config = description == null
          ? latest.config() : latest.config().toBuilder().description(description).build();
      codeStore.retain(latest.code()); // the version shares $LATEST's unpacked code and holds its own reference
      FunctionVersion published = newRevision(config, latest.code(), Long.toString(number));
      state.lastVersionNumber = number;
      state.versions.put(number, new Published(published, latest.config()));
      putRoute(state, state.name + ":" + number, Route.to(published, published.pool().arnPrefix() + ":" + number));
      return published;
    }
  }

  /** Returns {@code $LATEST} and then every published version, in version order. */
  public List<FunctionVersion> listVersions(String name) {
    FunctionState state = state(name);
    List<FunctionVersion> all = new ArrayList<>();
    all.add(state.latest);
    state.versions.values().forEach(p -> all.add(p.revision()));
    return all;
  }

  /**
   * Deletes one published version; its environments finish their invocations and shut down.
   *
   * @throws InvalidConfigurationException if the qualifier is {@code $LATEST} or not a version number
   * @throws ResourceConflictException if an alias points at the version, naming the aliases
   * @throws FunctionNotFoundException if there is no such function or version
   */
  public void deleteVersion(String name, String qualifier) {
    if (FunctionVersion.LATEST.equals(qualifier)) {
      throw new InvalidConfigurationException("version $LATEST of function '" + name
          + "' cannot be deleted without deleting the function");
    }
    long number = versionNumber(name, qualifier);
    FunctionState state = state(name);
    Published removed;
    synchronized (state) {
      requireLive(state);
      removed = state.versions.get(number);
      if (removed == null) {
        throw new FunctionNotFoundException("function '" + name + "' has no version '" + qualifier + "'");
      }
      List<String> users = state.aliases.values().stream()
          .filter(a -> a.functionVersion().equals(removed.revision().version())
              || a.additionalVersionWeights().containsKey(removed.revision().version()))
          .map(AliasConfig::name).toList();
      if (!users.isEmpty()) {
        throw new ResourceConflictException("version " + qualifier + " of function '" + name
            + "' cannot be deleted: alias" + (users.size() == 1 ? " '" + users.get(0) + "' points" : "es "
            + users + " point") + " at it");
      }
      state.versions.remove(number);
      removeRoute(state, state.name + ":" + number);
    }
    retire.accept(removed.revision());
  }

  private static long versionNumber(String name, String qualifier) {
    if (qualifier == null || qualifier.isEmpty() || !qualifier.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new InvalidConfigurationException("qualifier to delete from function '" + name
          + "' must be a version number, was '" + qualifier + "' (delete an alias with deleteAlias)");
    }
    if (!isVersionName(qualifier)) {
      throw new FunctionNotFoundException("function '" + name + "' has no version '" + qualifier + "'");
    }
    return Long.parseLong(qualifier);
  }

  /**
   * Returns whether a string of digits is how a published version is named: as in Lambda, versions are names, so
   * {@code "01"} is not version 1 (it names no version at all), and every lookup must agree on that. Parsing it as a
   * number once let an alias point at version 1 while the check that refuses to delete a version an alias uses
   * compared names and let version 1 go.
   */
  private static boolean isVersionName(String digits) {
    return digits.length() <= 18 && !digits.startsWith("0");
  }

  // ---- aliases ----

  /**
   * Creates an alias.
   *
   * @throws ResourceConflictException if the function has an alias of that name
   * @throws FunctionNotFoundException if the function, or a version the alias names, does not exist
   */
  public AliasInfo createAlias(String name, AliasConfig alias) {
    FunctionState state = state(name);
    synchronized (state) {
      requireLive(state);
      if (state.aliases.containsKey(alias.name())) {
        throw new ResourceConflictException("alias '" + alias.name() + "' of function '" + name + "' already exists");
      }
      return putAlias(state, alias);
    }
  }

  /**
   * Replaces an alias's version, description and weights. Invocations already running finish on the version they
   * started on; new ones go where the alias now points.
   *
   * @throws FunctionNotFoundException if the function, the alias, or a version the alias names does not exist
   */
  public AliasInfo updateAlias(String name, AliasConfig alias) {
    FunctionState state = state(name);
    synchronized (state) {
      requireLive(state);
      requireAlias(state, alias.name());
      return putAlias(state, alias);
    }
  }

  private AliasInfo putAlias(FunctionState state, AliasConfig alias) {
    Route route = aliasRoute(state, alias); // validates the versions before anything changes
    state.aliases.put(alias.name(), alias);
    putRoute(state, state.name + ":" + alias.name(), route);
    return aliasInfo(state, alias);
  }

  private Route aliasRoute(FunctionState state, AliasConfig alias) {
    FunctionVersion primary = versionOf(state, alias.functionVersion(), alias.name());
    FunctionVersion additional = null;
    double weight = 0;
    for (Map.Entry<String, Double> e : alias.additionalVersionWeights().entrySet()) {
      additional = versionOf(state, e.getKey(), alias.name());
      weight = e.getValue();
    }
    return new Route(primary, additional, weight, primary.pool().arnPrefix() + ":" + alias.name());
  }

  private static FunctionVersion versionOf(FunctionState state, String version, String aliasName) {
    if (version.equals(FunctionVersion.LATEST)) {
      return state.latest;
    }
    Published p = isVersionName(version) ? state.versions.get(Long.parseLong(version)) : null;
    if (p == null) {
      throw new FunctionNotFoundException("alias '" + aliasName + "' of function '" + state.name
          + "' points at version " + version + ", which does not exist");
    }
    return p.revision();
  }

  /** Returns an alias, or throws {@link FunctionNotFoundException} naming it. */
  public AliasInfo getAlias(String name, String aliasName) {
    FunctionState state = state(name);
    return aliasInfo(state, requireAlias(state, aliasName));
  }

  /** Returns a function's aliases, ordered by name. */
  public List<AliasInfo> listAliases(String name) {
    FunctionState state = state(name);
    return state.aliases.values().stream().map(a -> aliasInfo(state, a)).toList();
  }

  /** Deletes an alias; invocations through it already running finish. */
  public void deleteAlias(String name, String aliasName) {
    FunctionState state = state(name);
    synchronized (state) {
      requireLive(state);
      requireAlias(state, aliasName);
      state.aliases.remove(aliasName);
      removeRoute(state, state.name + ":" + aliasName);
    }
  }

  private static AliasConfig requireAlias(FunctionState state, String aliasName) {
    AliasConfig alias = aliasName == null ? null : state.aliases.get(aliasName);
    if (alias == null) {
      throw new FunctionNotFoundException("function '" + state.name + "' has no alias '" + aliasName + "'");
    }
    return alias;
  }

  private static AliasInfo aliasInfo(FunctionState state, AliasConfig alias) {
    return new AliasInfo(state.name, alias, state.latest.pool().arnPrefix() + ":" + alias.name());
  }

  // ---- resolution ----

  /**
   * Resolves an exact function reference for one invocation: {@code name}, {@code name:$LATEST}, {@code name:7} or
   * {@code name:alias}. One map read; the text is not parsed unless the reference is unknown.
   *
   * @throws FunctionNotFoundException naming the function or the qualifier that does not exist
   */
  public Route route(String functionRef) {
    Route route = routes.get(functionRef);
    if (route == null) {
      throw unknown(functionRef);
    }
    return route;
  }

  /**
   * Resolves a qualifier to the revision it runs: {@code null} or {@code $LATEST} to the current {@code $LATEST}, a
   * number to that published version, an alias name to the version the alias points at (for a weighted alias, its
   * primary version, {@link AliasConfig#functionVersion()}, whatever the weights: provisioned concurrency on such an
   * alias provisions that version, as in Lambda).
   *
   * @throws FunctionNotFoundException naming the function or the qualifier that does not exist
   */
  public FunctionVersion resolve(String name, String qualifier) {
    if (qualifier == null || qualifier.isEmpty()) {
      return get(name);
    }
    return route(name + ":" + qualifier).primary();
  }

  private FunctionNotFoundException unknown(String functionRef) {
    int colon = functionRef.indexOf(':');
    String name = colon < 0 ? functionRef : functionRef.substring(0, colon);
    if (colon < 0 || !functions.containsKey(name)) {
      return notFound(name);
    }
    return new FunctionNotFoundException("function '" + name + "' has no version or alias '"
        + functionRef.substring(colon + 1) + "'");
  }

  private void putRoute(FunctionState state, String ref, Route route) {
    state.ownRoutes.put(ref, route);
    routes.put(ref, route);
  }

  private void removeRoute(FunctionState state, String ref) {
    Route route = state.ownRoutes.remove(ref);
    if (route != null) {
      routes.remove(ref, route);
    }
  }

  // ---- functions ----

  /** Returns a function's {@code $LATEST} revision, or throws {@link FunctionNotFoundException}. */
  public FunctionVersion get(String name) {
    return state(name).latest;
  }

  /** Returns a function's {@code $LATEST} revision, or null. */
  public FunctionVersion find(String name) {
    FunctionState state = functions.get(name);
    return state == null ? null : state.latest;
  }

  /** Returns every function's {@code $LATEST} revision, ordered by name. */
  public List<FunctionVersion> list() {
    return functions.values().stream().map(s -> s.latest)
        .sorted(Comparator.comparing(v -> v.config().name())).toList();
  }

  /** Returns every live revision: each function's {@code $LATEST} and its published versions. */
  public List<FunctionVersion> revisions() {
    List<FunctionVersion> all = new ArrayList<>();
    for (FunctionState state : functions.values()) {
      all.add(state.latest);
      state.versions.values().forEach(p -> all.add(p.revision()));
    }
    return all;
  }

  /** Deletes a function: {@code $LATEST}, every published version and every alias. */
  public void delete(String name) {
    FunctionState state = state(name);
    List<FunctionVersion> removed = new ArrayList<>();
    synchronized (state) {
      requireLive(state);
      state.deleted = true;
      functions.remove(name, state);
      for (String ref : List.copyOf(state.ownRoutes.keySet())) {
        removeRoute(state, ref);
      }
      removed.add(state.latest);
      state.versions.values().forEach(p -> removed.add(p.revision()));
    }
    removed.forEach(retire);
  }

  /** Removes every function, returning every revision for the caller to retire; for engine close. */
  public List<FunctionVersion> clear() {
    List<FunctionVersion> all = new ArrayList<>();
    for (FunctionState state : List.copyOf(functions.values())) {
      synchronized (state) {
        if (!state.deleted) {
          state.deleted = true;
          functions.remove(state.name, state);
          all.add(state.latest);
          state.versions.values().forEach(p -> all.add(p.revision()));
        }
      }
    }
    routes.clear();
    return all;
  }

  private FunctionState state(String name) {
    FunctionState state = name == null ? null : functions.get(name);
    if (state == null) {
      throw notFound(name);
    }
    return state;
  }

  private static void requireLive(FunctionState state) {
    if (state.deleted) {
      throw notFound(state.name);
    }
  }

  static FunctionNotFoundException notFound(String name) {
    return new FunctionNotFoundException("function not found: '" + name + "'");
  }

  private static ResourceConflictException conflict(String name) {
    return new ResourceConflictException("function already exists: '" + name + "'");
  }
}
