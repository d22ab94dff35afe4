-- Content-creating requests booked per installation, so that every replica
-- paces its writes under GitHub's secondary limits together. Rows older than
-- the longest window are pruned when the next write is booked.
CREATE TABLE tend_write_slot (
    installation_id BIGINT NOT NULL,
    at              BIGINT NOT NULL,
    PRIMARY KEY (installation_id, at)
);
