package dev.quantforge.model;

import java.util.Optional;
import java.util.UUID;

import org.springframework.data.domain.Page;
import org.springframework.data.domain.Pageable;
import org.springframework.data.jpa.repository.JpaRepository;

public interface ModelRepository extends JpaRepository<ModelEntity, UUID> {
    /** The project's live (not deleted) model with these bytes. */
    Optional<ModelEntity> findByProjectIdAndSha256AndDeletedAtIsNull(UUID projectId, String sha256);

    Page<ModelEntity> findByProjectIdAndDeletedAtIsNull(UUID projectId, Pageable page);
}
