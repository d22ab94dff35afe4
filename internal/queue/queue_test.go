package queue

import (
	"github.com/tend-app/tend/reconcilers"

	"context"
	"errors"
	"fmt"
	"os"
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
)

// The suite runs on every engine testdb offers, so the Postgres backend is
// held to exactly the same semantics as SQLite.
func forEachEngine(t *testing.T, fn func(t *testing.T, engine string)) {
	for _, e := range testdb.Engines() {
		t.Run(e, func(t *testing.T) { fn(t, e) })
	}
}

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

// recorder is a Runner that counts runs per key and the most runs of one
// key it ever saw at the same time.
type recorder struct {
	mu        sync.Mutex
	runs      map[string]int
	active    map[string]int
	maxActive map[string]int
	behave    func(ctx context.Context, run Run, n int) (reconcilers.Result, error)
}

func newRecorder(behave func(ctx context.Context, run Run, n int) (reconcilers.Result, error)) *recorder {
	return &recorder{runs: map[string]int{}, active: map[string]int{}, maxActive: map[string]int{}, behave: behave}
}

func (r *recorder) Run(ctx context.Context, run Run) (reconcilers.Result, error) {
	k := run.Key.String()
	r.mu.Lock()
	r.runs[k]++
	n := r.runs[k]
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

func (r *recorder) peak(k string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxActive[k]
}

func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", within, what)
}

func liveJobs(t testing.TB, q *Queue, key string) []Job {
	t.Helper()
	jobs, err := q.JobsForKey(context.Background(), key, liveStates...)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

var (
	keyA = keys.MustParse("acme/web:pin:deploy/a.yaml")
	keyB = keys.MustParse("acme/web:pin:deploy/b.yaml")
)

// (a) Many events for one key collapse into one pending job.
func TestCollapse(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		opts := fastOptions(t)
		opts.InsertOnly = true
		q, err := New(context.Background(), st, nil, opts)
		if err != nil {
			t.Fatal(err)
		}
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
	forEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		opts := fastOptions(t)
		opts.InsertOnly = true
		q, err := New(context.Background(), st, nil, opts)
		if err != nil {
			t.Fatal(err)
		}
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
	forEachEngine(t, func(t *testing.T, engine string) {
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
			eventually(t, 20*time.Second, "queue to drain "+k.String(), func() bool { return len(liveJobs(t, q1, k.String())) == 0 })
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
	forEachEngine(t, func(t *testing.T, engine string) {
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
		eventually(t, 10*time.Second, "the follow-up run", func() bool { return rec.count(keyA.String()) == 2 })
		eventually(t, 10*time.Second, "the queue to drain", func() bool { return len(liveJobs(t, q, keyA.String())) == 0 })
		time.Sleep(200 * time.Millisecond)
		if n := rec.count(keyA.String()); n != 2 {
			t.Errorf("key ran %d times, want exactly 2 (one run, one follow-up)", n)
		}
		// A run with no event during it schedules nothing.
		if _, err := q.Intake(ctx, Delivery{ID: "c-11"}, []keys.Key{keyB}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "key B to run", func() bool { return rec.count(keyB.String()) == 1 })
		time.Sleep(200 * time.Millisecond)
		if n := rec.count(keyB.String()); n != 1 {
			t.Errorf("key B ran %d times, want 1", n)
		}
	})
}

// Events settle: a burst within the quiet period costs one run.
func TestSettle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		rec := newRecorder(nil)
		opts := fastOptions(t)
		opts.Settle = 300 * time.Millisecond
		opts.MaxDelay = 10 * time.Second
		q := startQueue(t, st, rec, opts)
		ctx := context.Background()
		start := time.Now()
		for i := 0; i < 20; i++ { // one second of events, 50 ms apart
			if _, err := q.Intake(ctx, Delivery{ID: fmt.Sprintf("s-%d", i)}, []keys.Key{keyA}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if n := rec.count(keyA.String()); n != 0 {
			t.Errorf("key ran %d times during the burst", n)
		}
		eventually(t, 10*time.Second, "the settled run", func() bool { return rec.count(keyA.String()) == 1 })
		if time.Since(start) < time.Second {
			t.Errorf("ran before the burst settled")
		}
		time.Sleep(500 * time.Millisecond)
		if n := rec.count(keyA.String()); n != 1 {
			t.Errorf("ran %d times, want 1", n)
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
	deadline := time.Now().Add(1500 * time.Millisecond)
	for i := 0; time.Now().Before(deadline); i++ {
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
	forEachEngine(t, func(t *testing.T, engine string) {
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
		opts.RetryBase = 100 * time.Millisecond
		opts.RetryMax = time.Second
		q := startQueue(t, st, rec, opts)
		ctx := context.Background()
		if _, err := q.Intake(ctx, Delivery{ID: "d-1"}, []keys.Key{keyA}); err != nil {
			t.Fatal(err)
		}
		var dead []Job
		eventually(t, 20*time.Second, "the key to be dead-lettered", func() bool {
			var err error
			dead, err = q.DeadLetters(ctx)
			return err == nil && len(dead) == 1
		})
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
		// Equal jitter: attempt 1 waits 50-100ms, attempt 2 waits 100-200ms
		// (plus polling).
		if gap1 < 50*time.Millisecond || gap2 < 100*time.Millisecond {
			t.Errorf("retries did not back off: gaps %s, %s", gap1, gap2)
		}
		// Dead letters stay: nothing runs any more.
		time.Sleep(300 * time.Millisecond)
		if n := rec.count(keyA.String()); n != 3 {
			t.Errorf("a dead key ran again (%d runs)", n)
		}
		mu.Lock()
		healthy = true
		mu.Unlock()
		msg, err := q.Redrive(ctx, keyA.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Log(msg)
		eventually(t, 10*time.Second, "the re-driven key to complete", func() bool { return rec.count(keyA.String()) == 4 && len(liveJobs(t, q, keyA.String())) == 0 })
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
	forEachEngine(t, func(t *testing.T, engine string) {
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
		eventually(t, 10*time.Second, "the dead letter", func() bool {
			dead, _ := q.DeadLetters(ctx)
			return len(dead) == 1 && dead[0].State == rivertype.JobStateCancelled
		})
		if n := rec.count(keyA.String()); n != 1 {
			t.Errorf("a permanent failure was retried (%d runs)", n)
		}
		if _, err := q.Intake(ctx, Delivery{ID: "p-2"}, []keys.Key{keyA}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "the new event to run the key", func() bool { return rec.count(keyA.String()) == 2 })
		// The key is live again, so re-driving only clears the stale letter.
		eventually(t, 10*time.Second, "drain", func() bool { return len(liveJobs(t, q, keyA.String())) == 0 })
	})
}

// A reconciler's RequeueAfter runs the key again after the delay, and a
// RetryAfter error waits without using an attempt.
func TestRequeueAfterAndRetryAfter(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
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
		eventually(t, 10*time.Second, "the requeued run", func() bool { return rec.count(keyA.String()) == 2 })
		mu.Lock()
		gap := times[1].Sub(times[0])
		mu.Unlock()
		if gap < 400*time.Millisecond {
			t.Errorf("requeued run came after %s, want >= 400ms", gap)
		}
		if _, err := q.Intake(ctx, Delivery{ID: "r-2"}, []keys.Key{keyB}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "key B to get through the limit", func() bool { return rec.count(keyB.String()) == 5 })
		eventually(t, 10*time.Second, "drain", func() bool { return len(liveJobs(t, q, keyB.String())) == 0 })
		if dead, _ := q.DeadLetters(ctx); len(dead) != 0 {
			t.Errorf("waiting out a rate limit dead-lettered the key: %+v", dead)
		}
	})
}

// A run's fan-out keys are enqueued with its completion.
func TestFanOut(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
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
		eventually(t, 10*time.Second, "the fan-out keys to run", func() bool {
			return rec.count(keyA.String()) == 1 && rec.count(keyB.String()) == 1
		})
	})
}

// (e) Rules are resynced periodically, spread over the period, by the leader
// only: two processes, one resync per due rule.
func TestPeriodicResync(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
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
		startQueue(t, st1, rec, o1)
		startQueue(t, st2, rec, o2)
		eventually(t, 30*time.Second, "both rules to resync", func() bool {
			return rec.count("acme/web:pin") == 1 && rec.count("acme/web:docs") == 1
		})
		time.Sleep(time.Second) // several more ticks on the leader
		// "never" has periodic resync off: it runs once, its first resync
		// after tend indexed it, and not again.
		if rec.count("acme/web:pin") != 1 || rec.count("acme/web:docs") != 1 || rec.count("acme/web:never") != 1 {
			t.Errorf("resync runs: %v; want each rule once: the first resync, then once per period", rec.runs)
		}
	})
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
	forEachEngine(t, func(t *testing.T, engine string) {
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
		eventually(t, 10*time.Second, "the first run", func() bool { return rec.count(keyA.String()) == 1 })
		eventually(t, 10*time.Second, "the requeue to be scheduled", func() bool {
			jobs := liveJobs(t, q, keyA.String())
			return len(jobs) == 1 && jobs[0].State == rivertype.JobStateScheduled
		})
		res, err := q.Intake(ctx, Delivery{ID: "f-2", Event: "push", Trigger: "push:a..b"}, []keys.Key{keyA})
		if err != nil || res.Collapsed != 1 {
			t.Fatalf("intake: %+v %v", res, err)
		}
		eventually(t, 10*time.Second, "the event to run the key now, not in an hour", func() bool { return rec.count(keyA.String()) == 2 })
		if s, _ := q.KeyState(ctx, keyA.String()); s.LastTrigger != "push:a..b" {
			t.Errorf("trigger = %q", s.LastTrigger)
		}
	})
}

// Dead letters survive River's job cleaner, which runs when a client
// becomes leader (riversqlite ignores River's "never delete" setting, so
// the queue keeps them with a retention of a century instead).
func TestDeadLettersSurviveTheCleaner(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		rec := newRecorder(func(ctx context.Context, run Run, n int) (reconcilers.Result, error) {
			return reconcilers.Result{}, reconcilers.Permanent(errors.New("broken"))
		})
		q := startQueue(t, st, rec, fastOptions(t))
		ctx := context.Background()
		if _, err := q.Enqueue(ctx, keyA); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "the dead letter", func() bool { d, _ := q.DeadLetters(ctx); return len(d) == 1 })
		periodic := func(q *Queue) int64 {
			res, _ := q.b.jobList(ctx, river.NewJobListParams().Kinds("tend.periodic").States(rivertype.JobStates()...).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(1))
			if res == nil || len(res.Jobs) == 0 {
				return 0
			}
			return res.Jobs[0].ID
		}
		before := periodic(q)
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := q.Stop(stopCtx); err != nil {
			t.Fatal(err)
		}
		// A new client: it is elected leader and its cleaner runs at once.
		o := fastOptions(t)
		o.ClientID = "after-restart"
		q2 := startQueue(t, st, newRecorder(nil), o)
		// Periodic jobs are inserted by the leader: once the new client has
		// inserted one, it leads, and its cleaner has started too.
		eventually(t, 30*time.Second, "the new client to lead", func() bool { return periodic(q2) > before })
		time.Sleep(2 * time.Second)
		if d, err := q2.DeadLetters(ctx); err != nil || len(d) != 1 {
			t.Fatalf("dead letters after the cleaner ran: %d %v", len(d), err)
		}
	})
}
