-- Deleting a model or dataset keeps its row, marked deleted_at, so that finished jobs keep the ids of
-- their inputs (provenance); only the bytes are removed. Lists hide deleted rows; identical bytes
-- uploaded again make a new row, so the uniqueness holds among live rows only.
alter table model add column deleted_at timestamptz;
alter table dataset add column deleted_at timestamptz;

alter table model drop constraint model_sha256_key;
create unique index model_sha256_live_key on model (sha256) where deleted_at is null;
alter table dataset drop constraint dataset_dedupe_key_key;
create unique index dataset_dedupe_key_live_key on dataset (dedupe_key) where deleted_at is null;

-- a job's dataset references are never nulled any more (rows are not deleted)
alter table job drop constraint job_calibration_dataset_id_fkey,
    add constraint job_calibration_dataset_id_fkey foreign key (calibration_dataset_id) references dataset (id);
alter table job drop constraint job_evaluation_dataset_id_fkey,
    add constraint job_evaluation_dataset_id_fkey foreign key (evaluation_dataset_id) references dataset (id);
alter table job drop constraint job_training_dataset_id_fkey,
    add constraint job_training_dataset_id_fkey foreign key (training_dataset_id) references dataset (id);

-- Idempotency-Key: the canonical hash of the body that first used the key; a different body with the
-- same key is refused (422) instead of answered with the unrelated first job
alter table job add column request_hash text;
