// Package keys defines the unit of work of tend: a key names one thing to
// reconcile — a repository, one rule in it, one path under a rule, or one
// issue handled by a rule — as a single canonical, parseable string.
//
// Keys carry no event payload. Everything that happens to a repository is
// reduced to "this key may be out of date", and the worker that runs the key
// reads the current state of the world itself (level-triggered, like a
// Kubernetes controller). The string form is what the queue deduplicates on,
// what logs and PR bodies show, and what operators type into `tend dlq retry`.
//
//	owner/repo                 resync the repository: reload its config, resync every rule
//	owner/repo:rule            resync one rule: list its paths, enqueue one key per path
//	owner/repo:rule:path       reconcile one path under a rule
//	owner/repo:rule#42         reconcile the request in issue 42 for a rule
//
// Owner and repository names are case-insensitive on GitHub and are stored
// lower-case so two spellings of one repository never make two keys; paths are
// case-sensitive and kept as they are.
package keys
