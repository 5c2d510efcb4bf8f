-- Up Migration
-- The disperser's state shared by its replicas (docs/OPERATING.md, "Replicas on PostgreSQL").
-- Times are milliseconds since the epoch; leases are compared with the database's own clock, so
-- replicas and encoders on machines whose clocks disagree still agree on who holds what.

-- One row a batch: the record `GET /v1/batches/:id` answers with, keyed by the batch root.
CREATE TABLE cellar_batches (
  root text PRIMARY KEY,
  payload_hash text NOT NULL,
  status text NOT NULL,
  record jsonb NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX cellar_batches_created ON cellar_batches (created_at DESC, root);
CREATE INDEX cellar_batches_payload ON cellar_batches (payload_hash) WHERE status <> 'failed';
CREATE INDEX cellar_batches_in_flight ON cellar_batches (payload_hash) WHERE status IN ('encoding', 'dispersing');

-- Who encodes and disperses a payload now: one replica, renewing its lease while it works.
CREATE TABLE cellar_claims (
  payload_hash text PRIMARY KEY,
  owner text NOT NULL,
  lease_until bigint NOT NULL
);

-- Encoders that take blob-encoding work, with their last heartbeat.
CREATE TABLE cellar_encoders (
  id text PRIMARY KEY,
  slots integer NOT NULL,
  seen_at bigint NOT NULL
);

-- One row a blob to encode: which replica holds the blob (its URL), who leased it and until when.
CREATE TABLE cellar_encode_jobs (
  id text PRIMARY KEY,
  payload_hash text NOT NULL,
  -- The replica (its claim's owner) waiting for the result: a job outlives neither.
  owner text NOT NULL,
  blob integer NOT NULL,
  replica_url text NOT NULL,
  state text NOT NULL,
  leased_by text,
  lease_until bigint NOT NULL DEFAULT 0,
  attempts integer NOT NULL DEFAULT 0,
  created_at bigint NOT NULL
);
CREATE INDEX cellar_encode_jobs_open ON cellar_encode_jobs (created_at, blob) WHERE state <> 'done';
CREATE INDEX cellar_encode_jobs_batch ON cellar_encode_jobs (payload_hash);

-- Down Migration
DROP TABLE cellar_encode_jobs;
DROP TABLE cellar_encoders;
DROP TABLE cellar_claims;
DROP TABLE cellar_batches;
