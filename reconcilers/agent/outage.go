package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tend-app/tend/internal/clip"
	"github.com/tend-app/tend/reconcilers"
)

// maxRequeue caps the wait of a key whose model calls keep failing
// without the API naming a delay; maxAsked caps the delay the API may
// name (a day: Gemini's longest quota window), so that a misbehaving
// endpoint cannot park a key for years.
const (
	maxRequeue = 30 * time.Minute
	maxAsked   = 24 * time.Hour
)

// outages counts, per key, the runs in a row that the model's failures
// requeued, so that a key waits longer each time the model stays down
// (River's snooze does not count attempts). It lives in the process: a
// restart or another replica starts the count again, which only shortens
// one wait.
type outages struct {
	mu sync.Mutex
	n  map[string]int
}

// next records one more requeue of key and returns how many in a row.
func (o *outages) next(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[key]++
	return o.n[key]
}

// reset forgets key's outage: the model answered its run.
func (o *outages) reset(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.n, key)
}

// requeueDelay is how long a key waits after the model failed its run:
// the delay the API asked for when it named one (at most a day), else 30
// retry bases doubled with each requeue in a row, up to maxRequeue.
func requeueDelay(b Budgets, asked time.Duration, inARow int) time.Duration {
	if asked > 0 {
		return min(asked, maxAsked)
	}
	d := 30 * b.RetryBase << min(inARow-1, 10)
	return min(d, maxRequeue)
}

// runFailed ends a run that stopped on an error. A transient model
// failure requeues the key (reconcilers.RetryAfter: no attempt used, never
// a dead letter); another error — the model refusing the request, GitHub
// failing a read — is returned as it is, for the queue's retries with
// backoff. Either way the run's check run, if it started one, says what
// happened, and nothing of the run reaches a branch.
func (r *Reconciler) runFailed(ctx context.Context, rn *run, rec *Record, err error) (reconcilers.Result, error) {
	var rq *errRequeue
	var mc *errModelCall
	switch {
	case errors.As(err, &mc):
		r.Metrics.record("model-error", rec)
		r.finishCheck(ctx, rn, "failure", "The model call failed",
			"The model rejected tend's request: "+clip.Text(mc.err.Error(), 600, truncated)+"\n\nNothing was changed. tend retries this key with backoff.", rec)
		return reconcilers.Result{}, err
	case !errors.As(err, &rq):
		r.finishCheck(ctx, rn, "neutral", "The run failed",
			"The run stopped on an error: "+clip.Text(err.Error(), 600, truncated)+"\n\nNothing was changed. tend retries this key with backoff.", rec)
		return reconcilers.Result{}, err
	}
	r.Metrics.record("model-error", rec)
	budgets := r.Budgets
	budgets.defaults()
	after := requeueDelay(budgets, rq.after, r.outages.next(rn.k.String()))
	why := "it did not say when to call again"
	if rq.after > 0 {
		why = "as the API asked"
	}
	r.finishCheck(ctx, rn, "neutral", "The model is unavailable", fmt.Sprintf(
		"The model failed %d time(s) in a row: %s\n\nNothing was changed. tend runs this key again in %s (%s).",
		rq.attempts, clip.Text(rq.err.Error(), 600, truncated), after.Round(time.Millisecond), why), rec)
	return reconcilers.Result{}, reconcilers.RetryAfter(err, after)
}
