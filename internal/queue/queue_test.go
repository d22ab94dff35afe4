package queue

import (
	"github.com/tend-app/tend/reconcilers"

	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/internal/testdb"
	"github.com/tend-app/tend/internal/testwait"
)

func testLogger(t testing.TB) zerolog.Logger {
	if os.Getenv("TEND_TEST_LOG") != "" {
		return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel)
	}
	return zerolog.Nop()
}

// fastOptions make the queue react in milliseconds instead of seconds.
func fastOptions(t testing.TB) Options {
	return Options{
		Settle:       NoSettle,
		PollInterval: 20 * time.Millisecond,
		RetryBase:    20 * time.Millisecond,
		RetryMax:     100 * time.Millisecond,
		MaxAttempts:  3,
		JobTimeout:   30 * time.Second,
		Logger:       testLogger(t),
	}
}

// insertOnlyQueue is a queue on st that enqueues and inspects but runs
// nothing, as the CLI's does.
func insertOnlyQueue(t testing.TB, st *store.Store) *Queue {
	t.Helper()
	opts := fastOptions(t)
	opts.InsertOnly = true
	q, err := New(context.Background(), st, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func startQueue(t testing.TB, st *store.Store, r Runner, opts Options) *Queue {
	t.Helper()
	q, err := New(context.Background(), st, r, opts)
	if err != nil {
		t.Fatalf("new queue: %v", err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatalf("start queue: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return q
}

// recorder is a Runner that logs every run (key, generation, attempt, start
// time) and counts the most runs of one key it ever saw at the same time.
type recorder struct {
	mu        sync.Mutex
	runs      map[string]int
	log       []runRecord
	active    map[string]int
	maxActive map[string]int
	behave    func(ctx context.Context, run Run, n int) (reconcilers.Result, error)
}

// runRecord is one entry of a recorder's run log.
type runRecord struct {
	key        string
	generation int64
	attempt    int
	at         time.Time
}

func newRecorder(behave func(ctx context.Context, run Run, n int) (reconcilers.Result, error)) *recorder {
	return &recorder{runs: map[string]int{}, active: map[string]int{}, maxActive: map[string]int{}, behave: behave}
}

func (r *recorder) Run(ctx context.Context, run Run) (reconcilers.Result, error) {
	k := run.Key.String()
	r.mu.Lock()
	r.runs[k]++
	n := r.runs[k]
	r.log = append(r.log, runRecord{key: k, generation: run.Generation, attempt: run.Attempt, at: time.Now()})
	r.active[k]++
	if r.active[k] > r.maxActive[k] {
		r.maxActive[k] = r.active[k]
	}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.active[k]--
		r.mu.Unlock()
	}()
	if r.behave == nil {
		return reconcilers.Result{}, nil
	}
	return r.behave(ctx, run, n)
}

func (r *recorder) count(k string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[k]
}

// runsOf returns the run log of one key, oldest first.
func (r *recorder) runsOf(k string) []runRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []runRecord
	for _, rr := range r.log {
		if rr.key == k {
			out = append(out, rr)
		}
	}
	return out
}

func (r *recorder) peak(k string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxActive[k]
}

func liveJobs(t testing.TB, q *Queue, key string) []Job {
	t.Helper()
	jobs, err := q.JobsForKey(context.Background(), key, liveStates...)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// settled waits until key has no live job and returns its run log. A key
// runs only from a live job, and a job becomes live only by an event or by
// the completion of the key's previous run (in the same transaction), so
// once the key has none and no event comes, the log is final: any further
// run, however late it would come, is already visible as a live job here.
// settled also checks that no follow-up is owed: the last run saw the key's
// current generation.
func settled(t testing.TB, q *Queue, rec *recorder, key keys.Key) []runRecord {
	t.Helper()
	testwait.For(t, time.Minute, func() bool { return len(liveJobs(t, q, key.String())) == 0 }, "%s to have no live job", key)
	runs := rec.runsOf(key.String())
	st, err := q.KeyState(context.Background(), key.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) > 0 && runs[len(runs)-1].generation != st.Generation {
		t.Errorf("%s: last run saw generation %d, the key is at %d, yet nothing is queued: a follow-up was lost", key, runs[len(runs)-1].generation, st.Generation)
	}
	return runs
}

// jobStates counts the jobs of key (every state) by state.
func jobStates(t testing.TB, q *Queue, key keys.Key) map[rivertype.JobState]int {
	t.Helper()
	jobs, err := q.JobsForKey(context.Background(), key.String())
	if err != nil {
		t.Fatal(err)
	}
	out := map[rivertype.JobState]int{}
	for _, j := range jobs {
		out[j.State]++
	}
	return out
}

func generations(runs []runRecord) []int64 {
	out := make([]int64, 0, len(runs))
	for _, r := range runs {
		out = append(out, r.generation)
	}
	return out
}

var (
	keyA = keys.MustParse("acme/web:pin:deploy/a.yaml")
	keyB = keys.MustParse("acme/web:pin:deploy/b.yaml")
)

// (a) Many events for one key collapse into one pending job.
func TestCollapse(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		q := insertOnlyQueue(t, st)
		ctx := context.Background()
		var inserted, collapsed int
		for i := 0; i < 50; i++ {
			res, err := q.Intake(ctx, Delivery{ID: fmt.Sprintf("d-%d", i), Event: "push"}, []keys.Key{keyA, keyA, keyB})
			if err != nil {
				t.Fatal(err)
			}
			inserted += res.Inserted
			collapsed += res.Collapsed
		}
		if inserted != 2 || collapsed != 98 {
			t.Errorf("inserted %d, collapsed %d; want 2 and 98", inserted, collapsed)
		}
		if n := len(liveJobs(t, q, keyA.String())); n != 1 {
			t.Errorf("key A has %d live jobs, want 1", n)
		}
		stA, err := q.KeyState(ctx, keyA.String())
		if err != nil {
			t.Fatal(err)
		}
		if stA.Generation != 50 || stA.LastDelivery != "d-49" {
			t.Errorf("key A state = %+v, want generation 50 from d-49", stA)
		}
	})
}

// Redeliveries (same X-GitHub-Delivery) enqueue nothing the second time.
func TestRedelivery(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		q := insertOnlyQueue(t, st)
		ctx := context.Background()
		d := Delivery{ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Event: "push"}
		first, err := q.Intake(ctx, d, []keys.Key{keyA})
		if err != nil || first.Duplicate || first.Inserted != 1 {
			t.Fatalf("first intake = %+v, %v", first, err)
		}
		again, err := q.Intake(ctx, d, []keys.Key{keyA, keyB})
		if err != nil || !again.Duplicate || again.Inserted+again.Collapsed != 0 {
			t.Fatalf("redelivery = %+v, %v; want a duplicate that enqueues nothing", again, err)
		}
		if n := len(liveJobs(t, q, keyB.String())); n != 0 {
			t.Errorf("redelivery enqueued key B")
		}
		if s, _ := q.KeyState(ctx, keyA.String()); s.Generation != 1 {
			t.Errorf("redelivery moved the generation to %d", s.Generation)
		}
	})
}

// (b) The same key never runs twice at once, across two queue processes
// sharing one database, while events keep arriving.
func TestNoConcurrentRunsAcrossProcesses(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		dir := t.TempDir()
		if engine == "postgres" {
			dir = fmt.Sprintf("tend_b_%d", time.Now().UnixNano())
		}
		st1 := testdb.Open(t, engine, dir)
		st2 := testdb.Open(t, engine, dir)
		rec := newRecorder(func(ctx context.Context, run Run, n int) (reconcilers.Result, error) {
			time.Sleep(15 * time.Millisecond)
			return reconcilers.Result{}, nil
		})
		o1, o2 := fastOptions(t), fastOptions(t)
		o1.ClientID, o2.ClientID = "proc-1", "proc-2"
		q1 := startQueue(t, st1, rec, o1)
		q2 := startQueue(t, st2, rec, o2)
		ks := []keys.Key{keyA, keyB, keys.MustParse("acme/web:pin:c"), keys.MustParse("acme/web:pin:d")}
		ctx := context.Background()
		for i := 0; i < 60; i++ {
			q := q1
			if i%2 == 1 {
				q = q2
			}
			if _, err := q.Intake(ctx, Delivery{ID: fmt.Sprintf("b-%d", i)}, ks); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		for _, k := range ks {
			testwait.For(t, time.Minute, func() bool { return len(liveJobs(t, q1, k.String())) == 0 }, "the queue to drain %s", k)
		}
		for _, k := range ks {
			if p := rec.peak(k.String()); p != 1 {
				t.Errorf("%s ran %d times at once", k, p)
			}
			if rec.count(k.String()) < 2 {
				t.Errorf("%s ran %d times; events kept arriving, want at least 2", k, rec.count(k.String()))
			}
		}
	})
}

// (c) An event that arrives while its key runs causes exactly one follow-up.
func TestExactlyOneFollowUp(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		started := make(chan struct{}, 10)
		release := make(chan struct{})
		rec := newRecorder(func(ctx context.Context, run Run, n int) (reconcilers.Result, error) {
			started <- struct{}{}
			if n == 1 {
				<-release
			}
			return reconcilers.Result{}, nil
		})
		q := startQueue(t, st, rec, fastOptions(t))
		ctx := context.Background()
		if _, err := q.Intake(ctx, Delivery{ID: "c-0"}, []keys.Key{keyA}); err != nil {
			t.Fatal(err)
		}
		<-started
		for i := 1; i <= 10; i++ {
			res, err := q.Intake(ctx, Delivery{ID: fmt.Sprintf("c-%d", i)}, []keys.Key{keyA})
			if err != nil {
				t.Fatal(err)
			}
			if res.Inserted != 0 {
				t.Fatalf("event %d inserted a second job while the key ran", i)
			}
		}
		close(release)
		// The first run saw generation 1; the ten events moved it to 11; the
		// one follow-up sees 11 and owes nothing.
		if got := generations(settled(t, q, rec, keyA)); !slices.Equal(got, []int64{1, 11}) {
			t.Errorf("key A ran at generations %v, want [1 11] (one run, one follow-up)", got)
		}
		if got := jobStates(t, q, keyA); got[rivertype.JobStateCompleted] != 2 || len(got) != 1 {
			t.Errorf("key A's jobs by state: %v, want 2 completed", got)
		}
		// A run with no event during it schedules nothing.
		if _, err := q.Intake(ctx, Delivery{ID: "c-11"}, []keys.Key{keyB}); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, time.Minute, func() bool { return rec.count(keyB.String()) == 1 }, "key B to run")
		if got := generations(settled(t, q, rec, keyB)); !slices.Equal(got, []int64{1}) {
			t.Errorf("key B ran at generations %v, want [1]", got)
		}
		if got := jobStates(t, q, keyB); got[rivertype.JobStateCompleted] != 1 || len(got) != 1 {
			t.Errorf("key B's jobs by state: %v, want 1 completed", got)
		}
	})
}

// Events settle: a burst within the quiet period costs one run.
func TestSettle(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		rec := newRecorder(nil)
		opts := fastOptions(t)
		// Events 50 ms apart for a second, against a quiet period of a
		// second: only a machine stalling for a whole second between two
		// intakes would split the burst (the failure then says so).
		opts.Settle = time.Second
		opts.MaxDelay = 20 * time.Second
		q := startQueue(t, st, rec, opts)
		ctx := context.Background()
		var last time.Time
		var widestGap time.Duration
		for i := 0; i < 20; i++ {
			if !last.IsZero() {
				widestGap = max(widestGap, time.Since(last))
			}
			last = time.Now()
			if _, err := q.Intake(ctx, Delivery{ID: fmt.Sprintf("s-%d", i)}, []keys.Key{keyA}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		testwait.For(t, time.Minute, func() bool { return rec.count(keyA.String()) >= 1 }, "the settled run")
		// One run, which saw all twenty events and started only once they
		// had been quiet for the settle period.
		runs := settled(t, q, rec, keyA)
		if got := generations(runs); !slices.Equal(got, []int64{20}) {
			t.Fatalf("key ran at generations %v, want one run at 20 (the widest gap between two events was %s)", got, widestGap)
		}
		if quiet := runs[0].at.Sub(last); quiet < opts.Settle {
			t.Errorf("ran %s after the last event, before the burst settled (%s)", quiet, opts.Settle)
		}
		if got := jobStates(t, q, keyA); got[rivertype.JobStateCompleted] != 1 || len(got) != 1 {
			t.Errorf("jobs by state: %v, want 1 completed", got)
		}
	})
}

// MaxDelay bounds how long a key that never goes quiet waits.
func TestSettleMaxDelay(t *testing.T) {
	st := testdb.Open(t, "sqlite", "")
	rec := newRecorder(nil)
	opts := fastOptions(t)
	opts.Settle = 200 * time.Millisecond
	opts.MaxDelay = 500 * time.Millisecond
	q := startQueue(t, st, rec, opts)
	ctx := context.Background()
	for i := 0; i < 30; i++ { // 1.5 s of events, 50 ms apart: never quiet for 200 ms
		if _, err := q.Intake(ctx, Delivery{ID: fmt.Sprintf("m-%d", i)}, []keys.Key{keyA}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := rec.count(keyA.String()); n < 1 {
		t.Errorf("a key under a continuous stream of events never ran within 3x MaxDelay")
	}
}

// (d) Failures retry with backoff, then land in the dead letters, which can
// be listed and re-driven.
func TestRetryDeadLetterRedrive(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		var mu sync.Mutex
		healthy := false
		var times []time.Time
		rec := newRecorder(func(ctx context.Context, run Run, n int) (reconcilers.Result, error) {
			mu.Lock()
			defer mu.Unlock()
			times = append(times, time.Now())
			if !healthy {
				return reconcilers.Result{}, fmt.Errorf("github is down (attempt %d)", run.Attempt)
			}
			return reconcilers.Result{}, nil
		})
		opts := fastOptions(t)
		opts.RetryBase = time.Second
		opts.RetryMax = 4 * time.Second
		q := startQueue(t, st, rec, opts)
		ctx := context.Background()
		if _, err := q.Intake(ctx, Delivery{ID: "d-1"}, []keys.Key{keyA}); err != nil {
			t.Fatal(err)
		}
		var dead []Job
		testwait.For(t, time.Minute, func() bool {
			var err error
			dead, err = q.DeadLetters(ctx)
			return err == nil && len(dead) == 1
		}, "the key to be dead-lettered")
		if dead[0].Key != keyA.String() || dead[0].State != rivertype.JobStateDiscarded || len(dead[0].Errors) != 3 {
			t.Fatalf("dead letter = %+v", dead[0])
		}
		if got := dead[0].Errors[2]; got != "github is down (attempt 3)" {
			t.Errorf("last error = %q", got)
		}
		mu.Lock()
		if len(times) != 3 {
			t.Fatalf("ran %d times, want MaxAttempts=3", len(times))
		}
		gap1, gap2 := times[1].Sub(times[0]), times[2].Sub(times[1])
		mu.Unlock()
		// Equal jitter: attempt 1 waits 0.5-1s, attempt 2 waits 1-2s after
		// River's attempt started. The runner is called some milliseconds
		// into each attempt, and that lag varies on a loaded machine (tens
		// of milliseconds were seen), so allow 100ms of it; a retry without
		// backoff would come at the next poll, 20ms later.
		if gap1 < 400*time.Millisecond || gap2 < 900*time.Millisecond {
			t.Errorf("retries did not back off: gaps %s, %s", gap1, gap2)
		}
		// Dead letters stay: the key has no live job, so nothing can run it
		// any more, and it ran exactly MaxAttempts times.
		if got := settled(t, q, rec, keyA); len(got) != 3 || got[2].attempt != 3 {
			t.Errorf("a dead key ran %d times (%+v), want its 3 attempts", len(got), got)
		}
		mu.Lock()
		healthy = true
		mu.Unlock()
		msg, err := q.Redrive(ctx, keyA.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Log(msg)
		testwait.For(t, time.Minute, func() bool { return rec.count(keyA.String()) == 4 }, "the re-driven key to run")
		if got := settled(t, q, rec, keyA); len(got) != 4 {
			t.Errorf("the re-driven key ran %d times in all, want 4", len(got))
		}
		if got := jobStates(t, q, keyA); got[rivertype.JobStateCompleted] != 1 || len(got) != 1 {
			t.Errorf("after the re-drive the key's jobs are %v, want its one job completed", got)
		}
		if dead, _ := q.DeadLetters(ctx); len(dead) != 0 {
			t.Errorf("dead letters after a successful re-drive: %+v", dead)
		}
		if _, err := q.Redrive(ctx, keyB.String()); err == nil {
			t.Errorf("re-driving a key with no dead letter succeeded")
		}
	})
}

// A permanent error dead-letters at once; an event later re-adds the key.
func TestPermanentError(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		rec := newRecorder(func(ctx context.Context, run Run, n int) (reconcilers.Result, error) {
			if n == 1 {
				return reconcilers.Result{}, reconcilers.Permanent(errors.New(`reconciler "magic" is not built`))
			}
			return reconcilers.Result{}, nil
		})
		q := startQueue(t, st, rec, fastOptions(t))
		ctx := context.Background()
		if _, err := q.Intake(ctx, Delivery{ID: "p-1"}, []keys.Key{keyA}); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, time.Minute, func() bool {
			dead, _ := q.DeadLetters(ctx)
			return len(dead) == 1 && dead[0].State == rivertype.JobStateCancelled
		}, "the dead letter")
		if got := settled(t, q, rec, keyA); len(got) != 1 {
			t.Errorf("a permanent failure was retried (%d runs)", len(got))
		}
		if _, err := q.Intake(ctx, Delivery{ID: "p-2"}, []keys.Key{keyA}); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, time.Minute, func() bool { return rec.count(keyA.String()) == 2 }, "the new event to run the key")
		if got := generations(settled(t, q, rec, keyA)); !slices.Equal(got, []int64{1, 2}) {
			t.Errorf("key ran at generations %v, want [1 2]", got)
		}
	})
}

// A reconciler's RequeueAfter runs the key again after the delay, and a
// RetryAfter error waits without using an attempt.
func TestRequeueAfterAndRetryAfter(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		var mu sync.Mutex
		var times []time.Time
		rec := newRecorder(func(ctx context.Context, run Run, n int) (reconcilers.Result, error) {
			mu.Lock()
			times = append(times, time.Now())
			mu.Unlock()
			switch {
			case run.Key == keyA && n == 1:
				return reconcilers.Result{RequeueAfter: 400 * time.Millisecond, Outcome: "waiting-for-limit"}, nil
			case run.Key == keyB && n <= 4:
				return reconcilers.Result{}, reconcilers.RetryAfter(errors.New("secondary rate limit"), 50*time.Millisecond)
			}
			return reconcilers.Result{}, nil
		})
		opts := fastOptions(t) // MaxAttempts 3: four RetryAfters must not dead-letter B
		q := startQueue(t, st, rec, opts)
		ctx := context.Background()
		if _, err := q.Intake(ctx, Delivery{ID: "r-1"}, []keys.Key{keyA}); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, time.Minute, func() bool { return rec.count(keyA.String()) == 2 }, "the requeued run")
		mu.Lock()
		gap := times[1].Sub(times[0])
		mu.Unlock()
		if gap < 400*time.Millisecond {
			t.Errorf("requeued run came after %s, want >= 400ms", gap)
		}
		if _, err := q.Intake(ctx, Delivery{ID: "r-2"}, []keys.Key{keyB}); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, time.Minute, func() bool { return rec.count(keyB.String()) == 5 }, "key B to get through the limit")
		if got := settled(t, q, rec, keyB); len(got) != 5 || got[4].attempt != 1 {
			t.Errorf("key B's runs: %+v; want 5, all on its first attempt", got)
		}
		if got := settled(t, q, rec, keyA); len(got) != 2 {
			t.Errorf("key A ran %d times, want 2 (one requeue)", len(got))
		}
		if dead, _ := q.DeadLetters(ctx); len(dead) != 0 {
			t.Errorf("waiting out a rate limit dead-lettered the key: %+v", dead)
		}
	})
}

// A run's fan-out keys are enqueued with its completion.
func TestFanOut(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		rule := keys.MustParse("acme/web:pin")
		rec := newRecorder(func(ctx context.Context, run Run, n int) (reconcilers.Result, error) {
			if run.Key == rule {
				return reconcilers.Result{Enqueue: []keys.Key{keyA, keyB}, Outcome: "listed"}, nil
			}
			return reconcilers.Result{}, nil
		})
		q := startQueue(t, st, rec, fastOptions(t))
		if _, err := q.Enqueue(context.Background(), rule); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, time.Minute, func() bool {
			return rec.count(keyA.String()) == 1 && rec.count(keyB.String()) == 1
		}, "the fan-out keys to run")
		for _, k := range []keys.Key{rule, keyA, keyB} {
			if got := settled(t, q, rec, k); len(got) != 1 {
				t.Errorf("%s ran %d times, want once", k, len(got))
			}
		}
	})
}

// (e) Rules are resynced periodically, spread over the period, by the leader
// only: two processes, one resync per due rule.
func TestPeriodicResync(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		dir := t.TempDir()
		if engine == "postgres" {
			dir = fmt.Sprintf("tend_e_%d", time.Now().UnixNano())
		}
		st1 := testdb.Open(t, engine, dir)
		st2 := testdb.Open(t, engine, dir)
		ctx := context.Background()
		cfg, err := config.Parse("x", []byte(`version: 1
rules:
  - {name: pin, reconciler: images, paths: ["*.yaml"], on: {resync: 1h}}
  - {name: docs, reconciler: agent, prompt: p, paths: ["*.md"], on: {resync: 1h}}
  - {name: never, reconciler: images, paths: ["x"], on: {resync: "off"}}
`))
		if err != nil {
			t.Fatal(err)
		}
		// Index the repository "two hours ago", so both resyncing rules are due.
		past := time.Now().Add(-2 * time.Hour)
		st1.SetClock(func() time.Time { return past })
		if err := st1.SaveRepo(ctx, store.RepoRecord{Repo: "acme/web", Managed: true}, cfg); err != nil {
			t.Fatal(err)
		}
		st1.SetClock(time.Now)
		rec := newRecorder(nil)
		o1, o2 := fastOptions(t), fastOptions(t)
		o1.ResyncTick, o2.ResyncTick = 100*time.Millisecond, 100*time.Millisecond
		o1.ClientID, o2.ClientID = "leader-1", "leader-2"
		q1 := startQueue(t, st1, rec, o1)
		startQueue(t, st2, rec, o2)
		testwait.For(t, 30*time.Second, func() bool {
			return rec.count("acme/web:pin") == 1 && rec.count("acme/web:docs") == 1
		}, "both rules to resync")
		// Let the leader complete three more resync ticks, each of which
		// would have enqueued a rule still due, then check that nothing
		// more was queued or ran.
		var after []int64
		testwait.For(t, time.Minute, func() bool { after = resyncTicks(t, q1, 0); return len(after) > 0 }, "the tick that enqueued them to complete")
		testwait.For(t, 30*time.Second, func() bool { return len(resyncTicks(t, q1, after[len(after)-1])) >= 3 }, "three more resync ticks")
		// "never" has periodic resync off: it runs once, its first resync
		// after tend indexed it, and not again.
		for _, rule := range []string{"acme/web:pin", "acme/web:docs", "acme/web:never"} {
			if got := settled(t, q1, rec, keys.MustParse(rule)); len(got) != 1 {
				t.Errorf("%s resynced %d times, want once: the first resync, then once per period", rule, len(got))
			}
		}
	})
}

// resyncTicks lists the ids of completed resync ticks newer than id.
func resyncTicks(t testing.TB, q *Queue, id int64) []int64 {
	t.Helper()
	res, err := q.b.jobList(context.Background(), river.NewJobListParams().Kinds("tend.periodic").
		States(rivertype.JobStateCompleted).Where("args ->> 'task' = @task", river.NamedArgs{"task": taskResync}).
		OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(1000))
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, j := range res.Jobs {
		if j.ID > id {
			out = append(out, j.ID)
		}
	}
	return out
}

func TestResyncSpread(t *testing.T) {
	st := testdb.Open(t, "sqlite", "")
	ctx := context.Background()
	now := time.Now()
	st.SetClock(func() time.Time { return now })
	period := 24 * time.Hour
	for i := 0; i < 200; i++ {
		cfg, _ := config.Parse("x", []byte("version: 1\nrules:\n  - {name: r, reconciler: images, paths: [x]}\n"))
		if err := st.SaveRepo(ctx, store.RepoRecord{Repo: fmt.Sprintf("acme/r%d", i), Managed: true}, cfg); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(at time.Time) []store.RuleRef {
		st.SetClock(func() time.Time { return at })
		var due []store.RuleRef
		if err := st.InTx(ctx, func(tx store.Tx) error {
			var err error
			due, err = st.ClaimDueResyncs(ctx, tx, 1000)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return due
	}
	// Every new rule is due at once: its first resync.
	if due := claim(now); len(due) != 200 {
		t.Fatalf("%d of 200 new rules due at once, want all", len(due))
	}
	// Then claim over the day in four slices: each quarter should hold about
	// a quarter of the rules, not all of them.
	for quarter := 1; quarter <= 4; quarter++ {
		due := claim(now.Add(time.Duration(quarter) * period / 4))
		if len(due) < 25 || len(due) > 75 {
			t.Errorf("quarter %d: %d of 200 rules due; resyncs are not spread", quarter, len(due))
		}
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	b := &backoff{base: time.Second, max: time.Minute}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 6: 32 * time.Second, 7: time.Minute, 30: time.Minute} {
		seen := map[time.Duration]bool{}
		for i := 0; i < 50; i++ {
			d := b.delay(attempt)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: delay %s outside [%s, %s]", attempt, d, want/2, want)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("attempt %d: delays are not jittered", attempt)
		}
	}
}

// An event for a key whose run asked to be requeued much later runs it once
// the event settles, like Add after AddAfter in a Kubernetes workqueue.
func TestEventBringsRequeueForward(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		rec := newRecorder(func(ctx context.Context, run Run, n int) (reconcilers.Result, error) {
			if n == 1 {
				return reconcilers.Result{RequeueAfter: time.Hour}, nil
			}
			return reconcilers.Result{}, nil
		})
		q := startQueue(t, st, rec, fastOptions(t))
		ctx := context.Background()
		if _, err := q.Intake(ctx, Delivery{ID: "f-1", Event: "push"}, []keys.Key{keyA}); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, time.Minute, func() bool { return rec.count(keyA.String()) == 1 }, "the first run")
		testwait.For(t, time.Minute, func() bool {
			jobs := liveJobs(t, q, keyA.String())
			return len(jobs) == 1 && jobs[0].State == rivertype.JobStateScheduled
		}, "the requeue to be scheduled")
		res, err := q.Intake(ctx, Delivery{ID: "f-2", Event: "push", Trigger: "push:a..b"}, []keys.Key{keyA})
		if err != nil || res.Collapsed != 1 {
			t.Fatalf("intake: %+v %v", res, err)
		}
		testwait.For(t, time.Minute, func() bool { return rec.count(keyA.String()) == 2 }, "the event to run the key now, not in an hour")
		if s, _ := q.KeyState(ctx, keyA.String()); s.LastTrigger != "push:a..b" {
			t.Errorf("trigger = %q", s.LastTrigger)
		}
	})
}

// Dead letters survive River's job cleaner (riversqlite ignores River's
// "never delete" setting, so the queue keeps them with a retention of a
// century instead). The test proves the cleaner ran over them: a completed
// job and the dead letter are both backdated a month, past the completed
// retention (24 h) and River's default dead-letter retention (7 days); a new
// leader's cleaner must delete the completed one and keep the dead letter.
func TestDeadLettersSurviveTheCleaner(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		rec := newRecorder(func(ctx context.Context, run Run, n int) (reconcilers.Result, error) {
			if run.Key == keyA {
				return reconcilers.Result{}, reconcilers.Permanent(errors.New("broken"))
			}
			return reconcilers.Result{}, nil
		})
		q := startQueue(t, st, rec, fastOptions(t))
		ctx := context.Background()
		if _, err := q.Enqueue(ctx, keyA, keyB); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, time.Minute, func() bool { d, _ := q.DeadLetters(ctx); return len(d) == 1 }, "the dead letter")
		settled(t, q, rec, keyB)
		dead := onlyJob(t, q, keyA, rivertype.JobStateCancelled)
		done := onlyJob(t, q, keyB, rivertype.JobStateCompleted)
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := q.Stop(stopCtx); err != nil {
			t.Fatal(err)
		}
		monthAgo := time.Now().Add(-30 * 24 * time.Hour).UTC()
		for _, id := range []int64{dead.ID, done.ID} {
			if n, err := st.Q().Exec(ctx, `UPDATE river_job SET finalized_at = $1 WHERE id = $2`, monthAgo, id); err != nil || n != 1 {
				t.Fatalf("backdate job %d: %d rows, %v", id, n, err)
			}
		}
		// A new client: it is elected leader and its cleaner runs at once.
		o := fastOptions(t)
		o.ClientID = "after-restart"
		q2 := startQueue(t, st, newRecorder(nil), o)
		testwait.For(t, 60*time.Second, func() bool {
			_, err := q2.b.jobGet(ctx, done.ID)
			return errors.Is(err, rivertype.ErrNotFound)
		}, "the new leader's cleaner to delete the month-old completed job")
		d, err := q2.DeadLetters(ctx)
		if err != nil || len(d) != 1 || d[0].ID != dead.ID {
			t.Fatalf("dead letters after the cleaner ran: %+v %v; want job %d", d, err, dead.ID)
		}
	})
}

// onlyJob returns the one job of key, which must be in state.
func onlyJob(t testing.TB, q *Queue, key keys.Key, state rivertype.JobState) Job {
	t.Helper()
	jobs, err := q.JobsForKey(context.Background(), key.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].State != state {
		t.Fatalf("jobs of %s: %+v; want one %s", key, jobs, state)
	}
	return jobs[0]
}
