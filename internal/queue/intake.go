package queue

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/tend-app/tend/internal/keys"
)

// Delivery identifies a webhook delivery taken in.
type Delivery struct {
	ID    string // X-GitHub-Delivery; empty disables redelivery detection
	Event string // X-GitHub-Event
	// Trigger describes the event for the runs it causes (defaults to Event):
	// "push:<before>..<after>", "release:<owner/name>@<tag>", ...
	Trigger string
	// Installations are installations whose every repository is to be
	// resynced although the delivery does not list them: a durable job
	// lists each through GitHub (Options.InstallationRepos) and enqueues
	// its repositories with the delivery's trigger.
	Installations []int64
}

// deliveryTrigger is what the delivery's runs are told asked for them.
func deliveryTrigger(d Delivery) string { return cmp.Or(d.Trigger, d.Event) }

// IntakeResult says what happened to a delivery's keys.
type IntakeResult struct {
	// Duplicate is set when the delivery was already taken in.
	Duplicate bool
	// Inserted counts keys that became new jobs; Collapsed counts keys
	// already queued or running, which only had their generation moved.
	Inserted, Collapsed int
	// Listings counts the installation listings the delivery asked for
	// (see Delivery.Installations).
	Listings int
}

// maxIntakeBatch bounds how many deliveries share one transaction.
const maxIntakeBatch = 256

type intakeRequest struct {
	ctx  context.Context
	d    Delivery
	ks   []keys.Key
	done chan intakeReply
}

type intakeReply struct {
	res IntakeResult
	err error
}

// ErrStopped is returned by Intake after Stop.
var ErrStopped = errors.New("queue: stopped")

// Intake durably enqueues the keys of one delivery, together with the
// delivery's id so that a redelivery is recognised and enqueues nothing.
//
// It returns once the keys are committed. Deliveries that arrive while a
// commit is in progress are committed together in the next transaction
// (group commit): each delivery is still all-or-nothing, but a burst costs
// one transaction — and one write per distinct key — instead of one per
// delivery.
func (q *Queue) Intake(ctx context.Context, d Delivery, ks []keys.Key) (IntakeResult, error) {
	if len(ks) == 0 && len(d.Installations) == 0 {
		q.metrics.deliveries.WithLabelValues("empty").Inc()
		return IntakeResult{}, nil
	}
	q.intakeOnce.Do(q.startIntake)
	req := intakeRequest{ctx: ctx, d: d, ks: dedupe(ks), done: make(chan intakeReply, 1)}
	select {
	case q.intake <- req:
	case <-q.intakeStop:
		return IntakeResult{}, ErrStopped
	case <-ctx.Done():
		return IntakeResult{}, ctx.Err()
	}
	select {
	case r := <-req.done:
		return r.res, r.err
	case <-q.intakeDone:
		// Stopped: the request was either committed in the last batch or
		// never taken.
		select {
		case r := <-req.done:
			return r.res, r.err
		default:
			return IntakeResult{}, ErrStopped
		}
	case <-ctx.Done():
		// The batch may still commit; a redelivery is then recognised.
		return IntakeResult{}, ctx.Err()
	}
}

func (q *Queue) startIntake() {
	q.intake = make(chan intakeRequest, maxIntakeBatch)
	q.intakeDone = make(chan struct{})
	go q.intakeLoop()
}

func (q *Queue) intakeLoop() {
	defer close(q.intakeDone)
	for {
		var first intakeRequest
		select {
		case first = <-q.intake:
		case <-q.intakeStop:
			return
		}
		batch := []intakeRequest{first}
	drain:
		for len(batch) < maxIntakeBatch {
			select {
			case r := <-q.intake:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		q.commitIntake(batch)
	}
}

// commitIntake takes a batch of deliveries in with one transaction.
func (q *Queue) commitIntake(batch []intakeRequest) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- intakeReply{err: err}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	results := make([]IntakeResult, len(live))
	// The batch's own context: one sender giving up must not abort the
	// others' commit.
	ctx := context.WithoutCancel(live[0].ctx)
	err := q.b.inTx(ctx, func(tx txn) error {
		clear(results)
		evs, err := q.recordDeliveries(ctx, tx, live, results)
		if err != nil {
			return err
		}
		inserted, err := q.enqueueTx(ctx, tx, evs)
		if err != nil {
			return err
		}
		credit(live, results, inserted)
		return q.insertInstallations(ctx, tx, live, results)
	})
	for i, r := range live {
		if err != nil {
			q.metrics.deliveries.WithLabelValues("error").Inc()
			r.done <- intakeReply{err: fmt.Errorf("intake delivery %s: %w", r.d.ID, err)}
			continue
		}
		res := results[i]
		if res.Duplicate {
			q.metrics.deliveries.WithLabelValues("duplicate").Inc()
		} else {
			q.metrics.deliveries.WithLabelValues("enqueued").Inc()
			q.metrics.keys.WithLabelValues("inserted").Add(float64(res.Inserted))
			q.metrics.keys.WithLabelValues("collapsed").Add(float64(res.Collapsed))
		}
		r.done <- intakeReply{res: res}
	}
}

// recordDeliveries records the batch's deliveries, marks the ones seen
// before as duplicates in results, and merges the keys of the others into
// one keyEvents per key, in the order they were first named.
func (q *Queue) recordDeliveries(ctx context.Context, tx txn, live []intakeRequest, results []IntakeResult) ([]keyEvents, error) {
	events := map[string]*keyEvents{}
	var order []string
	for i, r := range live {
		if r.d.ID != "" {
			fresh, err := q.st.RecordDelivery(ctx, tx, r.d.ID, r.d.Event, len(r.ks))
			if err != nil {
				return nil, err
			}
			if !fresh {
				results[i].Duplicate = true
				continue
			}
		}
		for _, k := range r.ks {
			s := k.String()
			e, ok := events[s]
			if !ok {
				e = &keyEvents{key: k}
				events[s] = e
				order = append(order, s)
			}
			e.events++
			if r.d.ID != "" {
				e.delivery = r.d.ID
			}
			e.trigger = deliveryTrigger(r.d)
		}
	}
	evs := make([]keyEvents, 0, len(order))
	for _, s := range order {
		evs = append(evs, *events[s])
	}
	return evs, nil
}

// credit counts, per delivery, the jobs it inserted and the mentions that
// collapsed into a job. A new job is credited to the first delivery that
// named its key; every other mention collapsed into it.
func credit(live []intakeRequest, results []IntakeResult, inserted map[string]bool) {
	credited := map[string]bool{}
	for i, r := range live {
		if results[i].Duplicate {
			continue
		}
		for _, k := range r.ks {
			s := k.String()
			if inserted[s] && !credited[s] {
				credited[s] = true
				results[i].Inserted++
			} else {
				results[i].Collapsed++
			}
		}
	}
}
