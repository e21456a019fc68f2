/** The engine's shared Jackson setup. Nothing else: mapping rules belong to the runtime or source that needs them. */
package dev.embla.faas.internal.json;
