-- Images referenced by each key's files (images rules), so a package
-- published to a registry can be mapped to the keys that pin it.
CREATE TABLE tend_image_ref (
    key   TEXT NOT NULL,
    image TEXT NOT NULL,
    PRIMARY KEY (key, image)
);
CREATE INDEX tend_image_ref_image ON tend_image_ref (image);

-- The repository's default branch, refreshed on every repository resync,
-- so a run needs no request to learn it.
ALTER TABLE tend_repo ADD COLUMN default_branch TEXT NOT NULL DEFAULT '';

-- What last asked for each key ("push:<before>..<after>", "release:<repo>@<tag>",
-- "resync", ...): a hint for explanations, never an event payload.
ALTER TABLE tend_key ADD COLUMN last_trigger TEXT NOT NULL DEFAULT '';

-- Keys waiting for a slot under their repository's open-PR limit; woken
-- when a tend PR of the repository closes.
CREATE TABLE tend_pr_wait (
    repo  TEXT NOT NULL,
    key   TEXT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (repo, key)
);
