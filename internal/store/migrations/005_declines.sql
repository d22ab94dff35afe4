-- What people declined per key by closing a tend PR unmerged (a JSON
-- botpr.Decline). The closed PRs' state blocks say the same and restore a
-- row that is missing; repo (lower-case owner/name) lets a renamed
-- repository take its declines along.
CREATE TABLE tend_decline (
    key     TEXT PRIMARY KEY,
    repo    TEXT NOT NULL,
    decline TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX tend_decline_repo ON tend_decline (repo);
