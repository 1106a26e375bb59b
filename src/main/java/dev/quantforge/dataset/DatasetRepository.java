package dev.quantforge.dataset;

import java.util.Optional;
import java.util.UUID;

import org.springframework.data.domain.Page;
import org.springframework.data.domain.Pageable;
import org.springframework.data.jpa.repository.JpaRepository;

public interface DatasetRepository extends JpaRepository<DatasetEntity, UUID> {
    /** The live (not deleted) dataset with these bytes read this way. */
    Optional<DatasetEntity> findByProjectIdAndDedupeKeyAndDeletedAtIsNull(UUID projectId, String dedupeKey);

    Page<DatasetEntity> findByProjectIdAndDeletedAtIsNull(UUID projectId, Pageable page);

    boolean existsByTokenizerSha256(String tokenizerSha256);
}
