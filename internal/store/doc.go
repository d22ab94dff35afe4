// Package store opens tend's database — embedded SQLite by default, Postgres
// when DATABASE_URL is set — migrates tend's own tables, and holds the queries
// on them: webhook deliveries seen (for redelivery detection), per-key
// generations (for "exactly one follow-up run"), the repository config cache,
// the rule index (resync schedule and release subscriptions), and what
// people declined per key (declines.go).
//
// River's own tables are migrated by the queue package, which owns River.
// Queries are written once with $n placeholders, which both engines accept;
// timestamps are stored as Unix milliseconds so both engines agree on them.
package store
