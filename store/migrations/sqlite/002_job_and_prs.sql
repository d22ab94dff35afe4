-- The River job last inserted for a key, so intake can see that a key is
-- already queued without asking River to insert (and refuse) a twin.
ALTER TABLE tend_key ADD COLUMN job_id BIGINT;

-- Open tend PRs per repository, for pull_requests.limit: reserved
-- atomically when a PR is opened, re-counted from GitHub on every resync.
ALTER TABLE tend_repo ADD COLUMN open_prs INTEGER NOT NULL DEFAULT 0;
