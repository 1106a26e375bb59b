package dev.quantforge.model;

import java.util.Optional;
import java.util.UUID;

import org.springframework.data.jpa.repository.JpaRepository;

public interface ModelRepository extends JpaRepository<ModelEntity, UUID> {
    Optional<ModelEntity> findBySha256(String sha256);
}
