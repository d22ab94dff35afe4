-- What the operator status page shows of each key's last run.
ALTER TABLE tend_key ADD COLUMN last_duration_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tend_key ADD COLUMN last_pr BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tend_key_last_run ON tend_key (last_run_at);
