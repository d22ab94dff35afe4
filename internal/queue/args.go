package queue

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tend-app/tend/internal/keys"
)

// River queue names. Fan-out keys (repositories and rules) get their own
// workers so that long reconciles cannot starve the resyncs that feed them.
const (
	queueKeys        = "keys"
	queueSync        = "sync"
	queueMaintenance = "maintenance"
)

// KindReconcile is the River job kind of a key.
const KindReconcile = "tend.reconcile"

// liveStates are the states in which a key's job counts as queued. River
// requires available, pending, running and scheduled; retryable is added so
// that a failing key waits for its backoff instead of being re-added by the
// next event. Completed, cancelled and discarded jobs do not block a new one.
var liveStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRetryable,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
}

// reconcileArgs is the whole payload of a job: the key, nothing else.
type reconcileArgs struct {
	Key string `json:"key" river:"unique"`
}

func (reconcileArgs) Kind() string { return KindReconcile }

func queueFor(k keys.Key) string {
	switch k.Kind() {
	case keys.KindRepo, keys.KindRule:
		return queueSync
	}
	return queueKeys
}

func uniqueOpts() river.UniqueOpts {
	return river.UniqueOpts{ByArgs: true, ByState: liveStates}
}

// periodicArgs runs one of the queue's periodic tasks.
type periodicArgs struct {
	Task string `json:"task" river:"unique"`
}

func (periodicArgs) Kind() string { return "tend.periodic" }
