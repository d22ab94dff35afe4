package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/reconcilers"
)

// keyWorker runs keys: it waits for their events to settle, calls the
// Runner, and on success completes the job and schedules a follow-up in one
// transaction.
type keyWorker struct {
	river.WorkerDefaults[reconcileArgs]
	q *Queue
}

func argsKey(row *rivertype.JobRow) string {
	var a reconcileArgs
	_ = json.Unmarshal(row.EncodedArgs, &a)
	return a.Key
}

func (w *keyWorker) Work(ctx context.Context, job *river.Job[reconcileArgs]) error {
	q := w.q
	k, err := keys.Parse(job.Args.Key)
	if err != nil {
		q.log.Error().Err(err).Str("key", job.Args.Key).Msg("dropping invalid key")
		return river.JobCancel(fmt.Errorf("invalid key: %w", err))
	}
	log := q.log.With().Str("key", job.Args.Key).Str("kind", k.Kind().String()).Str("repo", k.FullName()).Int("attempt", job.Attempt).Logger()

	st, err := q.st.GetKey(ctx, q.st.Q(), job.Args.Key, false)
	if err != nil {
		return err
	}
	if wait := q.settleWait(st.LastEventAt, st.PendingSince); wait > 0 {
		log.Debug().Dur("wait", wait).Msg("key not settled; waiting for quiet")
		q.metrics.runs.WithLabelValues(k.Kind().String(), "settling").Inc()
		return river.JobSnooze(wait)
	}
	if err := q.st.StartRun(ctx, q.st.Q(), job.Args.Key); err != nil {
		return err
	}
	if st.LastDelivery != "" {
		log = log.With().Str("delivery", st.LastDelivery).Logger()
	}
	trigger := st.LastTrigger
	if trigger == "" {
		trigger = TriggerResync
	}
	run := Run{Key: k, Trigger: trigger, Attempt: job.Attempt, MaxAttempts: job.MaxAttempts, Generation: st.Generation, Delivery: st.LastDelivery, Log: &log}

	// The run's work lies between these two lines, both written before
	// the job's state changes in the database, so the runs of a key on
	// several replicas can be checked apart from their logs.
	log.Debug().Int64("job", job.ID).Msg("run started")
	start := time.Now()
	res, runErr := q.runner.Run(ctx, run)
	elapsed := time.Since(start)
	log.Debug().Int64("job", job.ID).Dur("duration", elapsed).Msg("run finished")
	q.metrics.duration.WithLabelValues(k.Kind().String()).Observe(elapsed.Seconds())
	if runErr != nil {
		return q.failed(ctx, job, k, log, runErr, elapsed)
	}

	followUp, err := q.completeRun(ctx, job, k, st.Generation, res, trigger, elapsed)
	if err != nil {
		// The reconcile happened but its completion did not commit; River
		// retries the key, which is harmless because runs are idempotent.
		log.Error().Err(err).Msg("recording run result")
		return err
	}
	outcome := outcomeOr(res.Outcome, "ok")
	q.metrics.runs.WithLabelValues(k.Kind().String(), outcome).Inc()
	ev := log.Info().Str("outcome", outcome).Dur("duration", elapsed).Int64("generation", st.Generation)
	if len(res.Enqueue) > 0 {
		ev = ev.Int("enqueued", len(res.Enqueue))
	}
	if res.RequeueAfter > 0 {
		ev = ev.Dur("requeue_after", res.RequeueAfter)
	}
	ev.Bool("follow_up", followUp).Msg("reconciled")
	return nil
}

// completeRun records a successful run in one transaction: it completes
// the job, enqueues the keys the run asked for, schedules the follow-up
// (the run's requeue, or one run for events that arrived during it, given
// the generation the run started at) and finishes the key's run. It
// reports whether a follow-up was scheduled.
func (q *Queue) completeRun(ctx context.Context, job *river.Job[reconcileArgs], k keys.Key, generation int64, res reconcilers.Result, trigger string, elapsed time.Duration) (bool, error) {
	var followUp bool
	err := q.b.inTx(ctx, func(tx txn) error {
		now, err := q.st.GetKey(ctx, tx, job.Args.Key, true)
		if err != nil {
			return err
		}
		if err := tx.complete(ctx, job); err != nil {
			return fmt.Errorf("complete job: %w", err)
		}
		if len(res.Enqueue) > 0 {
			if _, err := q.enqueueTx(ctx, tx, countKeys(res.Enqueue, "", trigger)); err != nil {
				return fmt.Errorf("enqueue fan-out: %w", err)
			}
		}
		var follow *river.InsertManyParams
		switch {
		case res.RequeueAfter > 0:
			p := q.insertParams(k, q.st.Now().Add(res.RequeueAfter))
			follow = &p
		case now.Generation != generation:
			// Events arrived during the run: exactly one follow-up, after
			// they settle (the worker waits for quiet when it picks it up).
			// The running job was completed above, in this transaction, so
			// the unique insert is not refused as its twin.
			p := q.insertParams(k, time.Time{})
			follow = &p
		}
		if follow != nil {
			followUp = true
			results, err := tx.insert(ctx, []river.InsertManyParams{*follow})
			if err != nil {
				return fmt.Errorf("insert follow-up: %w", err)
			}
			if len(results) == 1 && results[0].Job != nil {
				if err := q.st.SetJob(ctx, tx, job.Args.Key, results[0].Job.ID); err != nil {
					return err
				}
			}
		}
		return q.st.FinishRun(ctx, tx, job.Args.Key, store.RunRecord{Outcome: outcomeOr(res.Outcome, "ok"), Duration: elapsed, PR: res.PR})
	})
	return followUp, err
}

func outcomeOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// settleWait returns how long a key must still wait for quiet, or 0 to run.
func (q *Queue) settleWait(lastEvent, pendingSince time.Time) time.Duration {
	if q.opts.Settle <= 0 || lastEvent.IsZero() {
		return 0
	}
	now := q.st.Now()
	wait := lastEvent.Add(q.opts.Settle).Sub(now)
	if wait <= 0 {
		return 0
	}
	if !pendingSince.IsZero() {
		deadline := pendingSince.Add(q.opts.MaxDelay).Sub(now)
		if deadline <= 0 {
			return 0
		}
		wait = min(wait, deadline)
	}
	return wait
}

// failed turns a run's error into River's retry, snooze or cancel.
func (q *Queue) failed(ctx context.Context, job *river.Job[reconcileArgs], k keys.Key, log zerolog.Logger, runErr error, elapsed time.Duration) error {
	kind := k.Kind().String()
	record := func(outcome string) {
		// Best effort: the outcome column is for operators, and a failure to
		// write it must not change what River does with the job.
		if err := q.st.FinishRun(context.WithoutCancel(ctx), q.st.Q(), job.Args.Key, store.RunRecord{Outcome: outcome, Duration: elapsed}); err != nil {
			log.Warn().Err(err).Msg("recording run outcome")
		}
		q.metrics.runs.WithLabelValues(kind, outcome).Inc()
	}
	if ctx.Err() != nil && q.stopping.Load() {
		// Shutting down: put the key back at once without using an attempt.
		log.Info().Dur("duration", elapsed).Msg("run interrupted by shutdown; requeued")
		return river.JobSnooze(0)
	}
	if d, ok := reconcilers.RetryAfterDelay(runErr); ok {
		record("waiting")
		log.Warn().Err(runErr).Dur("retry_after", d).Dur("duration", elapsed).Msg("run must wait; requeued")
		return river.JobSnooze(max(d, 10*time.Millisecond))
	}
	if reconcilers.IsPermanent(runErr) {
		record("failed")
		log.Error().Err(runErr).Dur("duration", elapsed).Msg("run failed permanently; dead-lettered")
		return river.JobCancel(runErr)
	}
	if job.Attempt >= job.MaxAttempts {
		record("dead")
		log.Error().Err(runErr).Dur("duration", elapsed).Msg("run failed on its last attempt; dead-lettered")
		return runErr
	}
	record("error")
	if errors.Is(runErr, context.DeadlineExceeded) {
		log.Warn().Err(runErr).Dur("duration", elapsed).Msg("run timed out; will retry")
	} else {
		log.Warn().Err(runErr).Dur("duration", elapsed).Msg("run failed; will retry")
	}
	return runErr
}
