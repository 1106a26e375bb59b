package dev.quantforge.dataset;

import java.util.Optional;
import java.util.UUID;

import org.springframework.data.jpa.repository.JpaRepository;

public interface DatasetRepository extends JpaRepository<DatasetEntity, UUID> {
    Optional<DatasetEntity> findByDedupeKey(String dedupeKey);

    boolean existsBySha256(String sha256);

    boolean existsByTokenizerSha256(String tokenizerSha256);
}
