package dev.quantforge.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The blob store contract on the default filesystem store ({@code <dataDir>/blobs}). */
class FileSystemStorageTest extends BlobStorageContract {

    @Override
    protected List<String> storeArgs() {
        return List.of();
    }

    @Override
    protected Set<String> storedShas() throws IOException {
        try (Stream<Path> s = Files.walk(dataDir.resolve("blobs"))) {
            return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    @Override
    protected void putOrphan(String sha256, byte[] bytes) throws IOException {
        Path p = dataDir.resolve("blobs").resolve(sha256.substring(0, 2)).resolve(sha256.substring(2, 4)).resolve(sha256);
        Files.createDirectories(p.getParent());
        Files.write(p, bytes);
    }
}
