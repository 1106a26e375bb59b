package dev.quantforge.model;

import java.util.Optional;
import java.util.UUID;

import org.springframework.data.domain.Page;
import org.springframework.data.domain.Pageable;
import org.springframework.data.jpa.repository.JpaRepository;

public interface ModelRepository extends JpaRepository<ModelEntity, UUID> {
    /** The live (not deleted) model with these bytes. */
    Optional<ModelEntity> findBySha256AndDeletedAtIsNull(String sha256);

    Page<ModelEntity> findByDeletedAtIsNull(Pageable page);
}
