package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"
	"riverqueue.com/riverui"

	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/reconcilers"
)

// Options configure a Queue. Zero values take the defaults.
type Options struct {
	// Workers is how many keys one process reconciles at once (default 8).
	Workers int
	// SyncWorkers is how many repository and rule fan-outs run at once (default 2).
	SyncWorkers int
	// Settle is the quiet period a key waits after its last event before it
	// runs (default 2s), so a burst of events costs one run.
	Settle time.Duration
	// MaxDelay bounds how long a key that keeps receiving events waits for
	// quiet before it runs anyway (default 1m).
	MaxDelay time.Duration
	// MaxAttempts is how many times a failing key runs before it is
	// dead-lettered (default 12).
	MaxAttempts int
	// RetryBase and RetryMax shape the exponential backoff between attempts
	// (defaults 10s and 1h).
	RetryBase, RetryMax time.Duration
	// JobTimeout cancels a run's context after this long (default 10m).
	JobTimeout time.Duration
	// RescueAfter is when a run whose process died is considered stuck and
	// rescued (default JobTimeout + 5m). It must exceed JobTimeout.
	RescueAfter time.Duration
	// PollInterval is how often workers look for due jobs (default 500ms;
	// SQLite has no notifications).
	PollInterval time.Duration
	// ResyncTick is how often the leader looks for rules due a resync (default 1m).
	ResyncTick time.Duration
	// DeliveryRetention is how long delivery ids are remembered for
	// redelivery detection (default 30 days).
	DeliveryRetention time.Duration
	// Periodic are extra tasks the leader runs on an interval; the keys they
	// return are enqueued.
	Periodic []Periodic
	// InstallationRepos lists the repositories of an installation for the
	// deliveries that ask to resync all of them (Delivery.Installations);
	// nil leaves those to the periodic discovery.
	InstallationRepos InstallationsFunc
	// ClientID names this process in River (default host-pid).
	ClientID string
	// InsertOnly builds a queue that can enqueue and inspect but runs no
	// workers (the CLI).
	InsertOnly bool
	Logger     zerolog.Logger
	// Registerer receives the queue's Prometheus metrics when set.
	Registerer prometheus.Registerer
}

// Periodic is a task run by the elected leader every Interval.
type Periodic struct {
	Name     string
	Interval time.Duration
	Run      func(ctx context.Context) ([]keys.Key, error)
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.SyncWorkers <= 0 {
		o.SyncWorkers = 2
	}
	if o.Settle < 0 {
		o.Settle = 0
	} else if o.Settle == 0 {
		o.Settle = 2 * time.Second
	}
	def(&o.MaxDelay, time.Minute)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 12
	}
	def(&o.RetryBase, 10*time.Second)
	def(&o.RetryMax, time.Hour)
	def(&o.JobTimeout, 10*time.Minute)
	def(&o.RescueAfter, o.JobTimeout+5*time.Minute)
	if o.RescueAfter <= o.JobTimeout {
		o.RescueAfter = o.JobTimeout + time.Second
	}
	def(&o.PollInterval, 500*time.Millisecond)
	def(&o.ResyncTick, time.Minute)
	def(&o.DeliveryRetention, 30*24*time.Hour)
	if o.ClientID == "" {
		host, _ := os.Hostname()
		o.ClientID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
}

// deadLetterRetention keeps cancelled and discarded jobs for good.
const deadLetterRetention = 100 * 365 * 24 * time.Hour

// NoSettle is the Settle value that disables the quiet period (0 means default).
const NoSettle = -1

// Run is what a Runner is told about one run of a key.
type Run struct {
	Key keys.Key
	// Trigger says what last asked for the key (see store.KeyState); keys a
	// run enqueues inherit it.
	Trigger     string
	Attempt     int   // 1 for the first attempt
	MaxAttempts int   // the run after which the key is dead-lettered
	Generation  int64 // the key's generation when the run started
	// Delivery is the last webhook delivery that asked for the key, if any.
	Delivery string
	// Log carries the key's fields; the runner adds its own (installation)
	// and the queue writes the run's result line with it.
	Log *zerolog.Logger
}

// Runner runs one key: the worker that dispatches it to a reconciler. It
// gets the key and what last asked for it (Run), reads the current state of
// the world itself, and returns the reconciler's Result. It must honour ctx.
type Runner interface {
	Run(ctx context.Context, run Run) (reconcilers.Result, error)
}

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(ctx context.Context, run Run) (reconcilers.Result, error)

func (f RunnerFunc) Run(ctx context.Context, run Run) (reconcilers.Result, error) { return f(ctx, run) }

// Queue is the durable key queue.
type Queue struct {
	st       *store.Store
	b        backend
	runner   Runner
	opts     Options
	log      zerolog.Logger
	metrics  *metrics
	stopping atomic.Bool

	// Group commit of deliveries (see Intake).
	intakeOnce sync.Once
	intake     chan intakeRequest
	intakeStop chan struct{}
	intakeDone chan struct{}
	stopOnce   sync.Once
}

// New builds a Queue on st, migrating River's tables. Runner may be nil for
// an InsertOnly queue.
func New(ctx context.Context, st *store.Store, runner Runner, opts Options) (*Queue, error) {
	opts.defaults()
	q := &Queue{st: st, b: newBackend(st), runner: runner, opts: opts, log: opts.Logger, intakeStop: make(chan struct{})}
	q.metrics = newMetrics(opts.Registerer)
	if err := q.b.migrate(ctx); err != nil {
		return nil, err
	}
	if err := st.PrepareHot(ctx); err != nil {
		return nil, err
	}
	cfg := &river.Config{
		ID:                   opts.ClientID,
		Logger:               slog.New(zerolog.NewSlogHandler(opts.Logger.With().Str("component", "river").Logger().Level(maxLevel(opts.Logger.GetLevel(), zerolog.WarnLevel)))),
		MaxAttempts:          opts.MaxAttempts,
		JobTimeout:           opts.JobTimeout,
		RescueStuckJobsAfter: opts.RescueAfter,
		RetryPolicy:          &backoff{base: opts.RetryBase, max: opts.RetryMax},
		// Dead letters are kept "forever": a century. River's -1 (never
		// delete) is ignored by riversqlite v0.47.0, whose JobDeleteBefore
		// drops the do-delete flags and so deletes every dead letter at once.
		CancelledJobRetentionPeriod: deadLetterRetention,
		DiscardedJobRetentionPeriod: deadLetterRetention,
		CompletedJobRetentionPeriod: 24 * time.Hour,
		FetchPollInterval:           opts.PollInterval,
		FetchCooldown:               min(opts.PollInterval, 100*time.Millisecond),
	}
	if !opts.InsertOnly {
		if runner == nil {
			return nil, errors.New("queue: a runner is required unless InsertOnly")
		}
		workers := river.NewWorkers()
		if err := river.AddWorkerSafely(workers, &keyWorker{q: q}); err != nil {
			return nil, fmt.Errorf("register key worker: %w", err)
		}
		if err := river.AddWorkerSafely(workers, &periodicWorker{q: q}); err != nil {
			return nil, fmt.Errorf("register periodic worker: %w", err)
		}
		if err := river.AddWorkerSafely(workers, &installationWorker{q: q}); err != nil {
			return nil, fmt.Errorf("register installation worker: %w", err)
		}
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{
			queueKeys:        {MaxWorkers: opts.Workers},
			queueSync:        {MaxWorkers: opts.SyncWorkers},
			queueMaintenance: {MaxWorkers: 1},
		}
		cfg.PeriodicJobs = q.periodicJobs()
	}
	if err := q.b.newClient(cfg); err != nil {
		return nil, err
	}
	return q, nil
}

func maxLevel(a, b zerolog.Level) zerolog.Level {
	if a > b {
		return a
	}
	return b
}

// Start starts the workers (and the River UI's background services).
func (q *Queue) Start(ctx context.Context) error {
	if err := q.b.start(ctx); err != nil {
		return fmt.Errorf("start queue: %w", err)
	}
	return nil
}

// Stop lets running keys finish until ctx is done, then cancels them. A key
// cancelled by shutdown is put back without using up an attempt.
func (q *Queue) Stop(ctx context.Context) error {
	q.stopping.Store(true)
	q.stopIntake()
	err := q.b.stop(ctx)
	if err == nil {
		return nil
	}
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err2 := q.b.stopAndCancel(hard); err2 != nil {
		return fmt.Errorf("stop queue: %w", errors.Join(err, err2))
	}
	return nil
}

// stopIntake stops taking deliveries in and waits for the batch being
// committed, if any.
func (q *Queue) stopIntake() {
	q.stopOnce.Do(func() {
		close(q.intakeStop)
		// Serialise with a concurrent first Intake: after this, no batcher
		// can start.
		q.intakeOnce.Do(func() {})
		if q.intakeDone != nil {
			<-q.intakeDone
		}
	})
}

// Close stops intake on a queue that was never started (InsertOnly).
func (q *Queue) Close() { q.stopIntake() }

// UI returns River's operator UI mounted under prefix.
func (q *Queue) UI(ctx context.Context, prefix string) (*riverui.Handler, error) {
	h, err := q.b.uiHandler(&riverui.HandlerOpts{
		Logger:                   slog.New(zerolog.NewSlogHandler(q.log.With().Str("component", "riverui").Logger())),
		Prefix:                   prefix,
		JobListHideArgsByDefault: false,
	})
	if err != nil {
		return nil, err
	}
	if err := h.Start(ctx); err != nil {
		return nil, fmt.Errorf("start river ui: %w", err)
	}
	return h, nil
}

// Enqueue adds keys outside of any delivery (operators, tests).
func (q *Queue) Enqueue(ctx context.Context, ks ...keys.Key) (IntakeResult, error) {
	return q.enqueueAs(ctx, TriggerManual, ks)
}

func (q *Queue) enqueueAs(ctx context.Context, trigger string, ks []keys.Key) (IntakeResult, error) {
	var res IntakeResult
	err := q.b.inTx(ctx, func(tx txn) error {
		inserted, err := q.enqueueTx(ctx, tx, countKeys(ks, "", trigger))
		for _, k := range dedupe(ks) {
			if inserted[k.String()] {
				res.Inserted++
			} else {
				res.Collapsed++
			}
		}
		return err
	})
	if err != nil {
		return IntakeResult{}, fmt.Errorf("enqueue: %w", err)
	}
	return res, nil
}

// keyEvents is how many events a transaction records for one key.
type keyEvents struct {
	key      keys.Key
	events   int
	delivery string // the last delivery that named the key, if any
	trigger  string // what asked for the key (store.KeyState.LastTrigger)
}

// Triggers of keys not enqueued by a webhook.
const (
	TriggerManual = "manual"
	TriggerResync = "resync"
)

func dedupe(ks []keys.Key) []keys.Key {
	seen := make(map[string]bool, len(ks))
	out := ks[:0:0]
	for _, k := range ks {
		if s := k.String(); !seen[s] {
			seen[s] = true
			out = append(out, k)
		}
	}
	return out
}

func countKeys(ks []keys.Key, delivery, trigger string) []keyEvents {
	out := make([]keyEvents, 0, len(ks))
	for _, k := range dedupe(ks) {
		out = append(out, keyEvents{key: k, events: 1, delivery: delivery, trigger: trigger})
	}
	return out
}

// enqueueTx moves each key's generation by its events and inserts its job
// unless one is already live. It returns the keys that became new jobs.
// Keys are handled in sorted order so that concurrent transactions on
// Postgres lock rows in the same order and cannot deadlock.
func (q *Queue) enqueueTx(ctx context.Context, tx txn, evs []keyEvents) (map[string]bool, error) {
	slices.SortFunc(evs, func(a, b keyEvents) int { return strings.Compare(a.key.String(), b.key.String()) })
	params := make([]river.InsertManyParams, 0, len(evs))
	toInsert := make([]keyEvents, 0, len(evs))
	for _, e := range evs {
		name := e.key.String()
		if _, err := q.st.BumpKey(ctx, tx, name, e.delivery, e.trigger, e.events); err != nil {
			return nil, err
		}
		// A key whose recorded job is still live needs no insert: River
		// would refuse the twin anyway, at a much higher cost.
		job, err := q.st.KeyJob(ctx, tx, name)
		if err != nil {
			return nil, err
		}
		if job.Live() {
			// An event overrides a delayed requeue (a reconciler's
			// RequeueAfter, a backoff): like Add after AddAfter in a
			// Kubernetes workqueue, the key runs once its events settle.
			if (job.State == "scheduled" || job.State == "retryable") && job.ScheduledAt.After(q.st.Now().Add(q.opts.Settle+time.Second)) {
				if err := tx.retry(ctx, job.ID); err != nil {
					return nil, fmt.Errorf("bring %s forward: %w", name, err)
				}
			}
			continue
		}
		// The settle wait is not written as a future scheduled_at: River
		// promotes scheduled jobs only every few seconds. The job is
		// available at once and the worker snoozes it until quiet, which
		// River keeps precise for short waits.
		params = append(params, q.insertParams(e.key, time.Time{}))
		toInsert = append(toInsert, e)
	}
	inserted := make(map[string]bool, len(params))
	if len(params) == 0 {
		return inserted, nil
	}
	results, err := tx.insert(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("insert jobs: %w", err)
	}
	for i, r := range results {
		name := toInsert[i].key.String()
		if !r.UniqueSkippedAsDuplicate {
			inserted[name] = true
		}
		if r.Job != nil {
			if err := q.st.SetJob(ctx, tx, name, r.Job.ID); err != nil {
				return nil, err
			}
		}
	}
	return inserted, nil
}

func (q *Queue) insertParams(k keys.Key, at time.Time) river.InsertManyParams {
	opts := &river.InsertOpts{
		Queue:       queueFor(k),
		MaxAttempts: q.opts.MaxAttempts,
		UniqueOpts:  uniqueOpts(),
	}
	if at.After(q.st.Now()) {
		opts.ScheduledAt = at
	}
	return river.InsertManyParams{Args: reconcileArgs{Key: k.String()}, InsertOpts: opts}
}

// Job describes the live job of a key, for operators and tests.
type Job struct {
	ID          int64
	Key         string
	State       rivertype.JobState
	Attempt     int
	ScheduledAt time.Time
	FinalizedAt *time.Time
	Errors      []string
}

func jobFromRow(row *rivertype.JobRow, key string) Job {
	j := Job{ID: row.ID, Key: key, State: row.State, Attempt: row.Attempt, ScheduledAt: row.ScheduledAt, FinalizedAt: row.FinalizedAt}
	for _, e := range row.Errors {
		j.Errors = append(j.Errors, e.Error)
	}
	return j
}

// Jobs lists the reconcile jobs in the given states (all states when none),
// newest first, at most limit.
func (q *Queue) Jobs(ctx context.Context, limit int, states ...rivertype.JobState) ([]Job, error) {
	var out []Job
	params := river.NewJobListParams().Kinds(KindReconcile).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(min(limit, 10000))
	if len(states) > 0 {
		params = params.States(states...)
	} else {
		params = params.States(rivertype.JobStates()...)
	}
	for len(out) < limit {
		res, err := q.b.jobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		for _, row := range res.Jobs {
			out = append(out, jobFromRow(row, argsKey(row)))
		}
		if len(res.Jobs) == 0 || res.LastCursor == nil {
			break
		}
		params = params.After(res.LastCursor)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// JobsForKey lists the jobs of one key in the given states, newest first.
func (q *Queue) JobsForKey(ctx context.Context, key string, states ...rivertype.JobState) ([]Job, error) {
	if len(states) == 0 {
		states = rivertype.JobStates()
	}
	// "args ->> 'key'" reads the same JSON field on Postgres and SQLite.
	params := river.NewJobListParams().Kinds(KindReconcile).States(states...).
		Where("args ->> 'key' = @key", river.NamedArgs{"key": key}).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(1000)
	res, err := q.b.jobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("list jobs of %s: %w", key, err)
	}
	out := make([]Job, 0, len(res.Jobs))
	for _, row := range res.Jobs {
		out = append(out, jobFromRow(row, key))
	}
	return out, nil
}

// KeyState returns the bookkeeping row of a key.
func (q *Queue) KeyState(ctx context.Context, key string) (store.KeyState, error) {
	return q.st.GetKey(ctx, q.st.Q(), key, false)
}
