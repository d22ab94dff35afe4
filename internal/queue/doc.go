// Package queue is tend's durable work queue of keys, built on River, with
// the semantics of a Kubernetes workqueue:
//
//   - a key is in the queue at most once: any number of events for a key
//     collapse into one pending job (River's unique jobs, by key);
//   - a key never runs twice at once, across processes sharing the database:
//     uniqueness covers the running state too;
//   - an event that arrives while its key runs causes exactly one follow-up
//     run: a per-key generation counter moves with every event, and the run,
//     when it completes, re-enqueues the key in the same transaction as its
//     completion if the counter moved since it started;
//   - a key waits for its events to settle (a quiet period, bounded by a
//     maximum delay), so a storm of events for one key costs one run;
//   - failures retry with exponential backoff and jitter, a reconciler can ask
//     to be requeued after a delay, and after the last attempt a key lands in
//     a dead-letter state that is kept forever and can be listed and retried;
//   - every rule is resynced periodically, spread over its period, by the
//     elected leader only;
//   - a process killed mid-run loses nothing: River rescues the stuck job
//     after a bounded time and the key runs again.
//   - a delivery that names installations rather than their repositories
//     (an unsuspend) commits, with its keys, one job per installation that
//     lists its repositories through GitHub and enqueues each
//     (KindInstallation), so intake itself never calls GitHub.
//
// The queue knows keys, not events: intake records a webhook delivery and
// its keys in one transaction, and the Runner (internal/worker) is called
// with the key and a one-line hint of what last asked for it (Run.Trigger);
// it returns the reconciler's own reconcilers.Result.
// It runs on SQLite (embedded, one connection) or Postgres (many replicas).
package queue
