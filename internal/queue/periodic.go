package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-app/tend/internal/keys"
)

const (
	taskResync = "resync"
	taskPrune  = "prune"
	// resyncBatch bounds how many rules one tick enqueues; the rest wait for
	// the next tick, which keeps a tick's transaction short.
	resyncBatch = 500
)

// periodicJobs are scheduled by River on the elected leader only.
func (q *Queue) periodicJobs() []*river.PeriodicJob {
	job := func(task string, every time.Duration) *river.PeriodicJob {
		return river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
			return periodicArgs{Task: task}, &river.InsertOpts{
				Queue:       queueMaintenance,
				MaxAttempts: 3,
				UniqueOpts:  uniqueOpts(),
			}
		}, &river.PeriodicJobOpts{ID: task, RunOnStart: true})
	}
	out := []*river.PeriodicJob{job(taskResync, q.opts.ResyncTick), job(taskPrune, 6*time.Hour)}
	for _, p := range q.opts.Periodic {
		out = append(out, job(p.Name, p.Interval))
	}
	return out
}

type periodicWorker struct {
	river.WorkerDefaults[periodicArgs]
	q *Queue
}

func (w *periodicWorker) Work(ctx context.Context, job *river.Job[periodicArgs]) error {
	q := w.q
	switch job.Args.Task {
	case taskResync:
		return q.resyncDue(ctx)
	case taskPrune:
		n, err := q.st.PruneDeliveries(ctx, q.st.Now().Add(-q.opts.DeliveryRetention))
		if err != nil {
			return err
		}
		q.log.Debug().Int64("deliveries", n).Msg("pruned delivery ids")
		return nil
	}
	for _, p := range q.opts.Periodic {
		if p.Name == job.Args.Task {
			ks, err := p.Run(ctx)
			if err != nil {
				return fmt.Errorf("periodic %s: %w", p.Name, err)
			}
			if len(ks) > 0 {
				res, err := q.enqueueAs(ctx, p.Name, ks)
				if err != nil {
					return err
				}
				q.log.Info().Str("task", p.Name).Int("inserted", res.Inserted).Int("collapsed", res.Collapsed).Msg("periodic task enqueued keys")
			}
			return nil
		}
	}
	// A task that no longer exists in this version: nothing to do.
	return nil
}

// resyncDue enqueues the rule keys whose resync time has come, claiming them
// and enqueueing them in one transaction.
func (q *Queue) resyncDue(ctx context.Context) error {
	for {
		var claimed int
		err := q.b.inTx(ctx, func(tx txn) error {
			due, err := q.st.ClaimDueResyncs(ctx, tx, resyncBatch)
			if err != nil {
				return err
			}
			claimed = len(due)
			ks := make([]keys.Key, 0, len(due))
			for _, r := range due {
				owner, repo, ok := splitRepo(r.Repo)
				if !ok {
					continue
				}
				k, err := keys.ForRule(owner, repo, r.Rule)
				if err != nil {
					q.log.Warn().Err(err).Str("repo", r.Repo).Str("rule", r.Rule).Msg("skipping unresyncable rule")
					continue
				}
				ks = append(ks, k)
			}
			if len(ks) == 0 {
				return nil
			}
			_, err = q.enqueueTx(ctx, tx, countKeys(ks, "", TriggerResync))
			return err
		})
		if err != nil {
			return fmt.Errorf("resync tick: %w", err)
		}
		if claimed > 0 {
			q.log.Info().Int("rules", claimed).Msg("periodic resync enqueued rules")
		}
		if claimed < resyncBatch {
			return nil
		}
	}
}

func splitRepo(full string) (owner, repo string, ok bool) {
	for i := 0; i < len(full); i++ {
		if full[i] == '/' {
			return full[:i], full[i+1:], i > 0 && i < len(full)-1
		}
	}
	return "", "", false
}
