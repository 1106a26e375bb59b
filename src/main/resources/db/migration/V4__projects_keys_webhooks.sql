-- Projects own models, datasets and jobs (and through their jobs: reports, artifacts, logs, leases). Content-addressed
-- blobs stay shared underneath: isolation is in these rows. The default project (fixed id) holds everything uploaded
-- before projects existed and everything of a service without keys.
create table project (
    id                  uuid primary key,
    name                text        not null unique,
    -- quotas; null = no limit
    max_concurrent_jobs integer check (max_concurrent_jobs >= 0),
    max_storage_bytes   bigint check (max_storage_bytes >= 0),
    created_at          timestamptz not null default now()
);
insert into project (id, name) values ('00000000-0000-0000-0000-000000000001', 'default');

alter table model add column project_id uuid not null default '00000000-0000-0000-0000-000000000001' references project (id);
alter table dataset add column project_id uuid not null default '00000000-0000-0000-0000-000000000001' references project (id);
alter table job add column project_id uuid not null default '00000000-0000-0000-0000-000000000001' references project (id);
-- every new row names its project: no silent default
alter table model alter column project_id drop default;
alter table dataset alter column project_id drop default;
alter table job alter column project_id drop default;
create index job_project_idx on job (project_id, created_at desc);
create index model_project_idx on model (project_id) where deleted_at is null;
create index dataset_project_idx on dataset (project_id) where deleted_at is null;
-- a worker registered with a project's worker key leases that project's jobs only; null = the service's shared fleet
alter table worker add column project_id uuid references project (id);

-- the same bytes uploaded by two projects are two rows (one blob)
drop index model_sha256_live_key;
create unique index model_sha256_live_key on model (project_id, sha256) where deleted_at is null;
drop index dataset_dedupe_key_live_key;
create unique index dataset_dedupe_key_live_key on dataset (project_id, dedupe_key) where deleted_at is null;
-- an Idempotency-Key is a project's own
alter table job drop constraint job_idempotency_key_key;
create unique index job_project_idempotency_key on job (project_id, idempotency_key);

-- API keys: only the SHA-256 of the key is kept (the key is 256 random bits, shown once at creation)
create table api_key (
    id           uuid primary key,
    project_id   uuid        not null references project (id),
    name         text        not null,
    prefix       text        not null,
    key_hash     text        not null unique,
    scopes       text[]      not null,
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
create index api_key_project_idx on api_key (project_id, created_at);

-- Webhooks: a project's receivers with the events they want; the secret signs each delivery (HMAC-SHA256), so it is
-- kept as given out (a hash could not sign)
create table webhook (
    id         uuid primary key,
    project_id uuid        not null references project (id),
    url        text        not null,
    events     text[]      not null,
    secret     text        not null,
    created_at timestamptz not null default now(),
    deleted_at timestamptz
);
create index webhook_project_idx on webhook (project_id) where deleted_at is null;

-- The delivery queue: one row per (event, webhook), written by the triggers below in the transaction that changed the
-- job, so no state change is lost whichever process made it; senders claim due rows with FOR UPDATE SKIP LOCKED.
-- id is the event id a receiver de-duplicates on (every retry of a delivery sends the same id and the same body).
create table webhook_delivery (
    id              uuid primary key,
    webhook_id      uuid        not null references webhook (id) on delete cascade,
    event           text        not null,
    job_id          uuid        not null references job (id) on delete cascade,
    report_id       uuid,
    payload         text,        -- the body, fixed at the first attempt
    state           text        not null default 'pending' check (state in ('pending', 'delivered', 'failed')),
    attempts        integer     not null default 0,
    next_attempt_at timestamptz not null default now(),
    claimed_until   timestamptz,
    last_status     integer,
    last_error      text,
    created_at      timestamptz not null default now(),
    delivered_at    timestamptz,
    updated_at      timestamptz not null default now()
);
create index webhook_delivery_due_idx on webhook_delivery (next_attempt_at) where state = 'pending';
create index webhook_delivery_webhook_idx on webhook_delivery (webhook_id, created_at desc);

create function webhook_job_event() returns trigger language plpgsql as $$
declare
    ev text;
begin
    if new.state is distinct from old.state and new.state in ('succeeded', 'failed', 'cancelled') then
        ev := 'job.' || new.state;
        insert into webhook_delivery (id, webhook_id, event, job_id)
        select gen_random_uuid(), w.id, ev, new.id from webhook w
        where w.project_id = new.project_id and w.deleted_at is null and ev = any (w.events);
    end if;
    return new;
end $$;
create trigger job_webhook_event after update of state on job for each row execute function webhook_job_event();

create function webhook_report_event() returns trigger language plpgsql as $$
begin
    insert into webhook_delivery (id, webhook_id, event, job_id, report_id)
    select gen_random_uuid(), w.id, 'report.created', new.job_id, new.id from webhook w join job j on j.project_id = w.project_id
    where j.id = new.job_id and w.deleted_at is null and 'report.created' = any (w.events);
    return new;
end $$;
create trigger report_webhook_event after insert on report for each row execute function webhook_report_event();
