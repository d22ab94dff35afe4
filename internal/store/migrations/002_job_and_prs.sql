-- The River job last inserted for a key, so intake can see that a key is
-- already queued without asking River to insert (and refuse) a twin.
ALTER TABLE tend_key ADD COLUMN job_id BIGINT;

-- Slots under each repository's open-PR limit: one row per key whose PR is
-- open or being opened. Reserved atomically; reconciled with GitHub's list
-- of open PRs on every resync (rows younger than a few minutes are kept,
-- since their PR may still be on its way).
CREATE TABLE tend_pr_slot (
    repo  TEXT NOT NULL,
    key   TEXT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (repo, key)
);
