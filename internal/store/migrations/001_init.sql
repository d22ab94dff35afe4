-- Webhook deliveries already taken in, so a redelivery is not enqueued twice.
CREATE TABLE tend_delivery (
    id          TEXT PRIMARY KEY,
    event       TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    key_count   INTEGER NOT NULL
);
CREATE INDEX tend_delivery_received ON tend_delivery (received_at);

-- One row per key ever enqueued. generation moves with every event; a run
-- remembers the generation it started from and schedules exactly one
-- follow-up when it moved meanwhile.
CREATE TABLE tend_key (
    key           TEXT PRIMARY KEY,
    generation    BIGINT NOT NULL,
    last_event_at BIGINT NOT NULL,
    pending_since BIGINT,
    last_run_at   BIGINT,
    last_outcome  TEXT,
    last_delivery TEXT
);

-- The repository config cache, shared by every replica.
CREATE TABLE tend_repo (
    repo            TEXT PRIMARY KEY,
    installation_id BIGINT NOT NULL DEFAULT 0,
    managed         BOOLEAN NOT NULL DEFAULT FALSE,
    config_source   TEXT NOT NULL DEFAULT '',
    -- config_repo is the lower-case owner/name the config was read from (the
    -- repository itself, the owner's .github, or a remote reference), so a
    -- push there can resync every repository that uses it.
    config_repo     TEXT NOT NULL DEFAULT '',
    config_path     TEXT NOT NULL DEFAULT '',
    config_raw      BLOB,
    config_errors   TEXT NOT NULL DEFAULT '',
    loaded_at       BIGINT NOT NULL
);
CREATE INDEX tend_repo_config_repo ON tend_repo (config_repo);

-- The rule index: one row per rule of every managed repository, with its
-- resync schedule and issue label.
CREATE TABLE tend_rule (
    repo           TEXT NOT NULL,
    rule           TEXT NOT NULL,
    reconciler     TEXT NOT NULL,
    resync_ms      BIGINT NOT NULL,
    next_resync_at BIGINT,
    issue_label    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (repo, rule)
);
CREATE INDEX tend_rule_next_resync ON tend_rule (next_resync_at);

-- Release subscriptions: published releases of source trigger repo's rule.
CREATE TABLE tend_release_sub (
    source TEXT NOT NULL,
    repo   TEXT NOT NULL,
    rule   TEXT NOT NULL,
    PRIMARY KEY (source, repo, rule)
);
