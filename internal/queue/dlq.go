package queue

import (
	"context"
	"fmt"

	"github.com/riverqueue/river/rivertype"
)

// deadStates are the states of dead letters: discarded after the last
// attempt, or cancelled by a permanent error (or an operator).
var deadStates = []rivertype.JobState{rivertype.JobStateDiscarded, rivertype.JobStateCancelled}

// DeadLetters lists keys that stopped being retried, newest first.
func (q *Queue) DeadLetters(ctx context.Context) ([]Job, error) {
	return q.Jobs(ctx, 100000, deadStates...)
}

// Redrive puts a dead-lettered key back in the queue. It returns what it
// did. When the key is already queued again (a later event re-added it), its
// dead letters are removed instead: the live job supersedes them.
func (q *Queue) Redrive(ctx context.Context, key string) (string, error) {
	mine, err := q.JobsForKey(ctx, key, deadStates...)
	if err != nil {
		return "", err
	}
	if len(mine) == 0 {
		return "", fmt.Errorf("no dead letter for key %q", key)
	}
	live, err := q.JobsForKey(ctx, key, liveStates...)
	if err != nil {
		return "", err
	}
	if len(live) > 0 {
		for _, j := range mine {
			if _, err := q.b.jobDelete(ctx, j.ID); err != nil {
				return "", fmt.Errorf("remove superseded dead letter %d: %w", j.ID, err)
			}
		}
		return fmt.Sprintf("%s is already queued; removed %d superseded dead letter(s)", key, len(mine)), nil
	}
	// mine is newest first: retry the newest, drop older ones it supersedes.
	if _, err := q.b.jobRetry(ctx, mine[0].ID); err != nil {
		return "", fmt.Errorf("retry job %d: %w", mine[0].ID, err)
	}
	for _, j := range mine[1:] {
		if _, err := q.b.jobDelete(ctx, j.ID); err != nil {
			return "", fmt.Errorf("remove superseded dead letter %d: %w", j.ID, err)
		}
	}
	return fmt.Sprintf("%s requeued (job %d)", key, mine[0].ID), nil
}
