-- Models: content-addressed (sha256 of the uploaded bytes); the inspected summary is kept as JSON.
create table model (
    id          uuid primary key,
    name        text        not null,
    sha256      text        not null unique,
    size_bytes  bigint      not null,
    summary     jsonb       not null,
    created_at  timestamptz not null default now()
);

-- Datasets: the same bytes with another preprocessing are another dataset (dedupe_key = sha256 + format + preprocessing).
create table dataset (
    id            uuid primary key,
    name          text        not null,
    sha256        text        not null,
    dedupe_key    text        not null unique,
    format        text        not null,
    size_bytes    bigint      not null,
    sample_count  bigint      not null,
    tensors       jsonb       not null,
    has_labels    boolean     not null,
    class_names   jsonb,
    preprocessing jsonb,
    created_at    timestamptz not null default now()
);

-- Jobs are the queue: workers claim with FOR UPDATE SKIP LOCKED and hold a lease they renew.
create table job (
    id                     uuid primary key,
    type                   text        not null,
    state                  text        not null check (state in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    model_id               uuid        not null references model (id),
    calibration_dataset_id uuid references dataset (id) on delete set null,
    evaluation_dataset_id  uuid references dataset (id) on delete set null,
    training_dataset_id    uuid references dataset (id) on delete set null,
    config                 jsonb       not null,
    priority               integer     not null default 0,
    requirements           text[]      not null default '{}',
    attempts               integer     not null default 0,
    max_attempts           integer     not null default 3,
    idempotency_key        text unique,
    lease_owner            text,
    worker_id              text, -- the worker of the latest attempt (kept after it ends)
    lease_expires_at       timestamptz,
    cancel_requested       boolean     not null default false,
    progress_fraction      double precision not null default 0,
    progress_phase         text,
    progress_message       text,
    result                 jsonb,
    error_code             text,
    error_message          text,
    created_at             timestamptz not null default now(),
    started_at             timestamptz,
    finished_at            timestamptz,
    updated_at             timestamptz not null default now()
);
create index job_claim_idx on job (priority desc, created_at, id) where state = 'queued';
create index job_lease_idx on job (lease_expires_at) where state = 'running';
create index job_model_idx on job (model_id);

create table job_log (
    id      bigserial primary key,
    job_id  uuid        not null references job (id) on delete cascade,
    ts      timestamptz not null default now(),
    level   text        not null,
    message text        not null
);
create index job_log_job_idx on job_log (job_id, id);

create table artifact (
    id         uuid primary key,
    job_id     uuid        not null references job (id) on delete cascade,
    kind       text        not null,
    name       text        not null,
    sha256     text        not null,
    size_bytes bigint      not null,
    created_at timestamptz not null default now(),
    unique (job_id, kind, name)
);

-- One row per measured layer configuration: the results database.
create table report (
    id          uuid primary key,
    job_id      uuid        not null references job (id) on delete cascade,
    model_id    uuid        not null references model (id),
    config_hash text        not null,
    config      jsonb       not null,
    metrics     jsonb       not null,
    runtime     jsonb       not null,
    layers      jsonb       not null,
    created_at  timestamptz not null default now(),
    unique (job_id, config_hash)
);
create index report_model_idx on report (model_id);

create table worker (
    id                uuid primary key,
    name              text        not null,
    capabilities      jsonb       not null,
    remote            boolean     not null,
    last_heartbeat_at timestamptz not null default now(),
    current_job_id    uuid,
    created_at        timestamptz not null default now()
);
