package dev.embla.faas.internal.registry;

import java.nio.file.Path;

/**
 * A validated code package, unpacked once into the code store.
 *
 * @param sha256 the package's SHA-256, hex encoded
 * @param zippedSize the package's size as given (zip bytes; for a directory, the sum of its files)
 * @param unzippedSize the sum of the unpacked files' sizes
 * @param directory where the package is unpacked; shared by every version with the same SHA-256, never modified
 */
public record StoredCode(String sha256, long zippedSize, long unzippedSize, Path directory) {}
