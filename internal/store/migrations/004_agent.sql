-- Tokens the agent spent per key and UTC day, for the per-key daily budget.
CREATE TABLE tend_token_usage (
    key    TEXT NOT NULL,
    day    TEXT NOT NULL,
    tokens BIGINT NOT NULL,
    PRIMARY KEY (key, day)
);

-- The inputs of the agent's last run per key: a run whose inputs (rule,
-- file, request, PR head) have not changed since is skipped without calling
-- the model, so a resync costs no tokens and a spent budget is not retried
-- in a loop.
CREATE TABLE tend_agent_memo (
    key     TEXT PRIMARY KEY,
    inputs  TEXT NOT NULL,
    outcome TEXT NOT NULL,
    head    TEXT NOT NULL DEFAULT '',
    at      BIGINT NOT NULL
);
