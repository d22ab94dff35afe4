package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"github.com/tend-app/tend/internal/config"
)

// The queries on the intake and run paths. They are constants so that the
// SQLite store can prepare them once (see hotQueries): SQLite spends more
// time parsing a statement like these than running it.
const (
	recordDeliverySQL = `INSERT INTO tend_delivery (id, event, received_at, key_count) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`
	bumpKeySQL        = `INSERT INTO tend_key (key, generation, last_event_at, pending_since, last_delivery, last_trigger) VALUES ($1, $4, $2, $2, $3, $5)
ON CONFLICT (key) DO UPDATE SET generation = tend_key.generation + $4, last_event_at = $2,
  pending_since = COALESCE(tend_key.pending_since, $2),
  last_delivery = CASE WHEN $3 = '' THEN tend_key.last_delivery ELSE $3 END,
  last_trigger = CASE WHEN tend_key.pending_since IS NOT NULL AND tend_key.last_trigger LIKE 'check_run:%'
      AND ($5 NOT LIKE 'check_run:%' OR tend_key.last_trigger LIKE '%:recreate') THEN tend_key.last_trigger ELSE $5 END
RETURNING generation`
	getKeySQL    = `SELECT generation, last_event_at, COALESCE(pending_since, 0), COALESCE(last_run_at, 0), COALESCE(last_outcome, ''), COALESCE(last_delivery, ''), last_trigger FROM tend_key WHERE key = $1`
	startRunSQL  = `UPDATE tend_key SET pending_since = NULL WHERE key = $1`
	finishRunSQL = `UPDATE tend_key SET last_run_at = $2, last_outcome = $3, last_duration_ms = $4, last_pr = $5 WHERE key = $1`
	liveJobSQL   = `SELECT j.id, j.state, j.scheduled_at FROM tend_key k JOIN river_job j ON j.id = k.job_id WHERE k.key = $1`
	setJobSQL    = `UPDATE tend_key SET job_id = $2 WHERE key = $1`
)

var hotQueries = []string{recordDeliverySQL, bumpKeySQL, getKeySQL, startRunSQL, finishRunSQL, liveJobSQL, setJobSQL}

// RecordDelivery notes a webhook delivery inside tx. It reports false when
// the delivery id was already recorded: a redelivery, whose keys were already
// enqueued. The row is written in the same transaction as the keys, so a
// delivery that failed to enqueue is not remembered and its redelivery works.
func (s *Store) RecordDelivery(ctx context.Context, tx Tx, id, event string, keyCount int) (bool, error) {
	n, err := tx.Exec(ctx, recordDeliverySQL, id, event, ms(s.now()), keyCount)
	if err != nil {
		return false, fmt.Errorf("record delivery %s: %w", id, err)
	}
	return n == 1, nil
}

// PruneDeliveries forgets deliveries received before t.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.Q().Exec(ctx, `DELETE FROM tend_delivery WHERE received_at < $1`, ms(before))
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	return n, nil
}

// KeyState is the bookkeeping row of one key.
type KeyState struct {
	Key          string
	Generation   int64
	LastEventAt  time.Time
	PendingSince time.Time // zero when no event is waiting for a run
	LastRunAt    time.Time
	LastOutcome  string
	LastDelivery string
	// LastTrigger says what last asked for the key: "push:<before>..<after>",
	// "release:<owner/name>@<tag>", "issues:opened", "resync", "manual", ...
	// It explains a run; the run still reads the world itself. A click on a
	// check run's button ("check_run:…") is the one trigger that asks for
	// something no re-read can find (a fresh check run, a recreate), so a
	// later event does not replace it until a run has started; a recreate
	// click is not replaced by another click either.
	LastTrigger string
}

// MaxTriggerLen bounds a trigger string.
const MaxTriggerLen = 200

// BumpKey records an event for key: its generation moves and it becomes
// pending if it was not. It returns the new generation.
// events is how many events are recorded at once (at least 1); delivery,
// when not empty, is remembered so a run's log line can name the last
// delivery that asked for it; trigger says what asked (see KeyState).
func (s *Store) BumpKey(ctx context.Context, tx Tx, key, delivery, trigger string, events int) (int64, error) {
	now := ms(s.now())
	events = max(events, 1)
	if len(trigger) > MaxTriggerLen {
		trigger = trigger[:MaxTriggerLen]
	}
	var gen int64
	err := tx.QueryRow(ctx, bumpKeySQL, key, now, delivery, events, trigger).Scan(&gen)
	if err != nil {
		return 0, fmt.Errorf("bump key %s: %w", key, err)
	}
	return gen, nil
}

// GetKey reads a key's row; lock takes a row lock until tx ends (Postgres).
// A key that was never bumped reads as generation 0.
func (s *Store) GetKey(ctx context.Context, tx Tx, key string, lock bool) (KeyState, error) {
	q := getKeySQL
	if lock {
		q += s.ForUpdate()
	}
	st := KeyState{Key: key}
	var lastEvent, pending, lastRun int64
	err := tx.QueryRow(ctx, q, key).Scan(&st.Generation, &lastEvent, &pending, &lastRun, &st.LastOutcome, &st.LastDelivery, &st.LastTrigger)
	if errors.Is(err, ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read key %s: %w", key, err)
	}
	st.LastEventAt, st.PendingSince, st.LastRunAt = fromMS(lastEvent), fromMS(pending), fromMS(lastRun)
	return st, nil
}

// StartRun clears the key's pending mark: the run about to start reads the
// world after every event recorded so far.
func (s *Store) StartRun(ctx context.Context, tx Tx, key string) error {
	_, err := tx.Exec(ctx, startRunSQL, key)
	if err != nil {
		return fmt.Errorf("start run %s: %w", key, err)
	}
	return nil
}

// RunRecord is what is kept of a key's last run.
type RunRecord struct {
	Outcome  string
	Duration time.Duration
	PR       int // the key's pull request, 0 for none
}

// FinishRun records a run's outcome.
func (s *Store) FinishRun(ctx context.Context, tx Tx, key string, r RunRecord) error {
	_, err := tx.Exec(ctx, finishRunSQL, key, ms(s.now()), r.Outcome, r.Duration.Milliseconds(), r.PR)
	if err != nil {
		return fmt.Errorf("finish run %s: %w", key, err)
	}
	return nil
}

// RepoRecord is the cached config of one repository.
type RepoRecord = config.Record

// GetRepo reads a repository's cached config.
func (s *Store) GetRepo(ctx context.Context, repo string) (RepoRecord, bool, error) {
	r := RepoRecord{Repo: repo}
	var loaded int64
	err := s.Q().QueryRow(ctx, `SELECT installation_id, managed, config_source, config_path, config_raw, config_errors, loaded_at FROM tend_repo WHERE repo = $1`, repo).
		Scan(&r.InstallationID, &r.Managed, &r.Source, &r.Path, &r.Raw, &r.Errors, &loaded)
	if errors.Is(err, ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("read repo %s: %w", repo, err)
	}
	r.LoadedAt = fromMS(loaded)
	return r, true, nil
}

// SaveRepo stores a repository's config and rebuilds its rule index and
// release subscriptions in one transaction. cfg is the parsed config (nil
// when the repository is unmanaged or its config is invalid: it then has no
// rules). Resync times of unchanged rules are kept; new rules are due for a
// first resync at once, and their later resyncs are spread over their
// period, so that a thousand repositories installed at once do not all
// resync in the same minute every day (see nextResync).
func (s *Store) SaveRepo(ctx context.Context, rec RepoRecord, cfg *config.Config) error {
	now := s.now()
	return s.InTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tend_repo (repo, installation_id, managed, config_source, config_repo, config_path, config_raw, config_errors, loaded_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (repo) DO UPDATE SET installation_id = CASE WHEN excluded.installation_id = 0 THEN tend_repo.installation_id ELSE excluded.installation_id END,
  managed = $3, config_source = $4, config_repo = $5, config_path = $6, config_raw = $7, config_errors = $8, loaded_at = $9`,
			rec.Repo, rec.InstallationID, rec.Managed, rec.Source, sourceRepo(rec.Source), rec.Path, rec.Raw, rec.Errors, ms(now)); err != nil {
			return fmt.Errorf("save repo %s: %w", rec.Repo, err)
		}
		rows, err := tx.Query(ctx, `SELECT rule, resync_ms FROM tend_rule WHERE repo = $1`, rec.Repo)
		if err != nil {
			return fmt.Errorf("read rules of %s: %w", rec.Repo, err)
		}
		existing, err := scanMap(rows) // rule -> resync_ms
		if err != nil {
			return err
		}
		var rules []config.Rule
		if cfg != nil {
			rules = cfg.Rules
		}
		keep := map[string]bool{}
		for _, r := range rules {
			keep[r.Name] = true
			period := r.On.Resync.Milliseconds()
			old, known := existing[r.Name]
			next := nextResync(rec.Repo+":"+r.Name, period, now, !known)
			if known && old == period {
				if _, err := tx.Exec(ctx, `UPDATE tend_rule SET reconciler = $3, issue_label = $4 WHERE repo = $1 AND rule = $2`,
					rec.Repo, r.Name, r.Reconciler, r.On.IssueLabel); err != nil {
					return fmt.Errorf("update rule %s: %w", r.Name, err)
				}
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO tend_rule (repo, rule, reconciler, resync_ms, next_resync_at, issue_label) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (repo, rule) DO UPDATE SET reconciler = $3, resync_ms = $4, next_resync_at = $5, issue_label = $6`,
				rec.Repo, r.Name, r.Reconciler, period, next, r.On.IssueLabel); err != nil {
				return fmt.Errorf("index rule %s: %w", r.Name, err)
			}
		}
		for name := range existing {
			if !keep[name] {
				if _, err := tx.Exec(ctx, `DELETE FROM tend_rule WHERE repo = $1 AND rule = $2`, rec.Repo, name); err != nil {
					return fmt.Errorf("drop rule %s: %w", name, err)
				}
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM tend_release_sub WHERE repo = $1`, rec.Repo); err != nil {
			return fmt.Errorf("clear release subscriptions of %s: %w", rec.Repo, err)
		}
		for _, r := range rules {
			for _, src := range r.ReleaseSources(rec.Repo) {
				if _, err := tx.Exec(ctx, `INSERT INTO tend_release_sub (source, repo, rule) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
					src, rec.Repo, r.Name); err != nil {
					return fmt.Errorf("subscribe %s to %s: %w", r.Name, src, err)
				}
			}
		}
		return nil
	})
}

// nextResync is when a rule indexed at now resyncs next. A rule tend has
// not indexed before is due at once, even with periodic resync off: the
// repository may have become known through a push or a comment, which
// reconcile only the paths they name, and its other paths must not wait a
// whole period (see RuleSynced). Its due time is set one period before its
// spread point, so the resync after that first one still lands at the
// rule's own point in the period. A rule whose period changed resyncs at
// its spread point in the new period.
func nextResync(name string, period int64, now time.Time, isNew bool) any {
	switch {
	case isNew && period > 0:
		return ms(now) - period + spread(name, period)
	case isNew:
		return ms(now)
	case period > 0:
		return ms(now) + spread(name, period)
	}
	return nil
}

// RuleSynced records that a rule's paths were just listed and enqueued (by
// an installation, a config change or a periodic resync): a resync that was
// due is pushed a period ahead (dropped when periodic resync is off), so the
// first resync of a new rule does not run twice.
func (s *Store) RuleSynced(ctx context.Context, repo, rule string) error {
	_, err := s.Q().Exec(ctx, `UPDATE tend_rule SET next_resync_at = CASE WHEN resync_ms > 0 THEN next_resync_at + resync_ms ELSE NULL END
WHERE repo = $1 AND rule = $2 AND next_resync_at <= $3`, strings.ToLower(repo), rule, ms(s.now()))
	if err != nil {
		return fmt.Errorf("record resync of %s:%s: %w", repo, rule, err)
	}
	return nil
}

// sourceRepo turns appconfig's "owner/name@ref" into "owner/name".
func sourceRepo(source string) string {
	if i := strings.IndexByte(source, '@'); i >= 0 {
		source = source[:i]
	}
	return strings.ToLower(source)
}

// ConfigUser is a repository whose config lives in another repository.
type ConfigUser struct {
	Repo string // lower-case owner/name of the repository using the config
	Path string // path of the config file in the source repository
}

// ReposUsingConfig lists the repositories whose config was read from
// source ("owner/name") other than source itself: users of an org-wide
// default or of a remote reference.
func (s *Store) ReposUsingConfig(ctx context.Context, source string) ([]ConfigUser, error) {
	src := strings.ToLower(source)
	rows, err := s.Q().Query(ctx, `SELECT repo, config_path FROM tend_repo WHERE config_repo = $1 AND repo <> $1 ORDER BY repo`, src)
	if err != nil {
		return nil, fmt.Errorf("read users of config in %s: %w", source, err)
	}
	return scanAll(rows, func(r Rows) (ConfigUser, error) {
		var u ConfigUser
		err := r.Scan(&u.Repo, &u.Path)
		return u, err
	})
}

// ForgetRepo drops a repository that tend no longer has access to: its
// cached config, rules and subscriptions, PR slots and waiting keys, and
// what its keys left behind (image index, agent memos, token counts,
// declines). The
// keys' own bookkeeping rows stay: a run of the key may be in flight.
func (s *Store) ForgetRepo(ctx context.Context, repo string) error {
	repo = strings.ToLower(repo)
	// Keys of the repository are "owner/repo:..."; a prefix compare, not
	// LIKE, since "_" in a repository name would be a wildcard.
	const ofRepo = `substr(key, 1, length(CAST($2 AS TEXT))) = CAST($2 AS TEXT)`
	return s.InTx(ctx, func(tx Tx) error {
		for _, q := range []string{
			`DELETE FROM tend_release_sub WHERE repo = $1`,
			`DELETE FROM tend_rule WHERE repo = $1`,
			`DELETE FROM tend_repo WHERE repo = $1`,
			`DELETE FROM tend_pr_slot WHERE repo = $1`,
			`DELETE FROM tend_pr_wait WHERE repo = $1`,
			`DELETE FROM tend_decline WHERE repo = $1`,
			`DELETE FROM tend_image_ref WHERE key = $1 OR ` + ofRepo,
			`DELETE FROM tend_agent_memo WHERE key = $1 OR ` + ofRepo,
			`DELETE FROM tend_token_usage WHERE key = $1 OR ` + ofRepo,
		} {
			args := []any{repo}
			if strings.Contains(q, "$2") {
				args = append(args, repo+":")
			}
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return fmt.Errorf("forget %s: %w", repo, err)
			}
		}
		return nil
	})
}

// spread maps a name to a stable offset in [0, period), so the first resync
// of each rule lands at its own point in the period.
func spread(name string, period int64) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return int64(h.Sum64() % uint64(period))
}

// RuleRef names one rule of one repository.
type RuleRef struct {
	Repo string // lower-case owner/name
	Rule string
}

// ReleaseSubscribers lists the rules that subscribe to releases of source
// ("owner/name").
func (s *Store) ReleaseSubscribers(ctx context.Context, source string) ([]RuleRef, error) {
	rows, err := s.Q().Query(ctx, `SELECT repo, rule FROM tend_release_sub WHERE source = $1 ORDER BY repo, rule`, strings.ToLower(source))
	if err != nil {
		return nil, fmt.Errorf("read release subscribers of %s: %w", source, err)
	}
	return scanAll(rows, func(r Rows) (RuleRef, error) {
		var ref RuleRef
		err := r.Scan(&ref.Repo, &ref.Rule)
		return ref, err
	})
}

// ClaimDueResyncs returns the rules whose resync time has come (at most
// limit) and moves each one's next time a period ahead, inside tx so that the
// claim and the enqueue commit together.
func (s *Store) ClaimDueResyncs(ctx context.Context, tx Tx, limit int) ([]RuleRef, error) {
	now := ms(s.now())
	rows, err := tx.Query(ctx, `SELECT repo, rule, resync_ms, next_resync_at FROM tend_rule
WHERE next_resync_at IS NOT NULL AND next_resync_at <= $1 ORDER BY next_resync_at LIMIT $2`+s.ForUpdate(), now, limit)
	if err != nil {
		return nil, fmt.Errorf("read due resyncs: %w", err)
	}
	type due struct {
		RuleRef
		period, next int64
	}
	all, err := scanAll(rows, func(r Rows) (due, error) {
		var d due
		err := r.Scan(&d.Repo, &d.Rule, &d.period, &d.next)
		return d, err
	})
	if err != nil {
		return nil, err
	}
	out := make([]RuleRef, 0, len(all))
	for _, d := range all {
		var next any // a rule without periodic resync was due for its first one only
		if d.period > 0 {
			n := d.next + d.period
			if n <= now { // far behind (the service was down): restart the cycle from now
				n = now + d.period
			}
			next = n
		}
		if _, err := tx.Exec(ctx, `UPDATE tend_rule SET next_resync_at = $3 WHERE repo = $1 AND rule = $2`, d.Repo, d.Rule, next); err != nil {
			return nil, fmt.Errorf("advance resync of %s:%s: %w", d.Repo, d.Rule, err)
		}
		out = append(out, d.RuleRef)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Repo+":"+out[i].Rule < out[j].Repo+":"+out[j].Rule })
	return out, nil
}

// KnownRepos returns every repository with a cached config row.
func (s *Store) KnownRepos(ctx context.Context) (map[string]bool, error) {
	repos, err := s.column(ctx, `SELECT repo FROM tend_repo`)
	if err != nil {
		return nil, fmt.Errorf("read known repos: %w", err)
	}
	out := make(map[string]bool, len(repos))
	for _, r := range repos {
		out[r] = true
	}
	return out, nil
}

// ReposOfInstallation returns the repositories whose config tend loaded
// through the installation, sorted. Installation 0 (unknown) has none.
func (s *Store) ReposOfInstallation(ctx context.Context, installationID int64) ([]string, error) {
	if installationID <= 0 {
		return nil, nil
	}
	repos, err := s.column(ctx, `SELECT repo FROM tend_repo WHERE installation_id = $1 ORDER BY repo`, installationID)
	if err != nil {
		return nil, fmt.Errorf("read the repositories of installation %d: %w", installationID, err)
	}
	return repos, nil
}

// column runs a query of one text column.
func (s *Store) column(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.Q().Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanAll(rows, func(r Rows) (string, error) {
		var v string
		err := r.Scan(&v)
		return v, err
	})
}

// scanAll reads every row with scan and closes rows (before the caller's
// next statement: SQLite's one connection needs it).
func scanAll[T any](rows Rows, scan func(Rows) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanMap reads rows of (text, integer) into a map and closes rows.
func scanMap(rows Rows) (map[string]int64, error) {
	type pair struct {
		k string
		v int64
	}
	pairs, err := scanAll(rows, func(r Rows) (pair, error) {
		var p pair
		err := r.Scan(&p.k, &p.v)
		return p, err
	})
	if err != nil {
		return nil, err
	}
	m := make(map[string]int64, len(pairs))
	for _, p := range pairs {
		m[p.k] = p.v
	}
	return m, nil
}

// Job is the River job last recorded for a key.
type Job struct {
	ID          int64
	State       string
	ScheduledAt time.Time
}

// Live reports whether the job is still queued or running.
func (j Job) Live() bool {
	switch j.State {
	case "available", "pending", "retryable", "running", "scheduled":
		return true
	}
	return false
}

// KeyJob returns the job last recorded for key (ID 0 when none). A job that
// is not Live only means "insert to be sure": River's unique insert remains
// the guard against twins.
func (s *Store) KeyJob(ctx context.Context, tx Tx, key string) (Job, error) {
	var j Job
	var at any
	err := tx.QueryRow(ctx, liveJobSQL, key).Scan(&j.ID, &j.State, &at)
	if errors.Is(err, ErrNoRows) {
		return Job{}, nil
	}
	if err != nil {
		return Job{}, fmt.Errorf("read job of %s: %w", key, err)
	}
	j.ScheduledAt = parseTime(at)
	return j, nil
}

// parseTime reads a River timestamp: a time.Time from pgx, and from SQLite
// whatever the driver makes of River's stored text.
func parseTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
			if p, err := time.Parse(layout, t); err == nil {
				return p
			}
		}
	case []byte:
		return parseTime(string(t))
	case int64:
		return time.Unix(t, 0)
	}
	return time.Time{}
}

// SetJob records the River job of key.
func (s *Store) SetJob(ctx context.Context, tx Tx, key string, jobID int64) error {
	if _, err := tx.Exec(ctx, setJobSQL, key, jobID); err != nil {
		return fmt.Errorf("record job of %s: %w", key, err)
	}
	return nil
}

// slotGrace keeps a reservation through a recount that does not show its
// PR yet: the PR may still be on its way.
const slotGrace = 10 * time.Minute

// ReservePR takes a slot for key under repo's open-PR limit, atomically; a
// key that holds a slot already keeps it.
func (s *Store) ReservePR(ctx context.Context, repo, key string, limit int) (bool, error) {
	repo = strings.ToLower(repo)
	granted := false
	err := s.InTx(ctx, func(tx Tx) error {
		// Serialise reservations of one repository: SQLite's immediate
		// transactions already do; on Postgres a transaction-scoped
		// advisory lock on the repository's name does.
		if s.Dialect == Postgres {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "tend_pr_slot:"+repo); err != nil {
				return err
			}
		}
		var held, n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN key = $2 THEN 1 ELSE 0 END), 0) FROM tend_pr_slot WHERE repo = $1`, repo, key).Scan(&n, &held); err != nil {
			return err
		}
		if held > 0 {
			granted = true
			return nil
		}
		if n >= limit {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO tend_pr_slot (repo, key, since) VALUES ($1, $2, $3)`, repo, key, ms(s.now()))
		granted = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("reserve a PR slot in %s: %w", repo, err)
	}
	return granted, nil
}

// ReleasePR gives key's slot back (a no-op when it holds none).
func (s *Store) ReleasePR(ctx context.Context, repo, key string) error {
	if _, err := s.Q().Exec(ctx, `DELETE FROM tend_pr_slot WHERE repo = $1 AND key = $2`, strings.ToLower(repo), key); err != nil {
		return fmt.Errorf("release the PR slot of %s: %w", key, err)
	}
	return nil
}

// SyncPRSlots makes repo's slots match the keys of its open tend PRs on
// GitHub, keeping reservations younger than slotGrace.
func (s *Store) SyncPRSlots(ctx context.Context, repo string, open []string) error {
	repo = strings.ToLower(repo)
	keep := make(map[string]bool, len(open))
	for _, k := range open {
		keep[k] = true
	}
	return s.InTx(ctx, func(tx Tx) error {
		rows, err := tx.Query(ctx, `SELECT key, since FROM tend_pr_slot WHERE repo = $1`, repo)
		if err != nil {
			return err
		}
		held, err := scanMap(rows) // key -> since
		if err != nil {
			return err
		}
		cutoff := ms(s.now().Add(-slotGrace))
		for k, since := range held {
			if !keep[k] && since < cutoff {
				if _, err := tx.Exec(ctx, `DELETE FROM tend_pr_slot WHERE repo = $1 AND key = $2`, repo, k); err != nil {
					return err
				}
			}
		}
		for k := range keep {
			if _, ok := held[k]; !ok {
				if _, err := tx.Exec(ctx, `INSERT INTO tend_pr_slot (repo, key, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, repo, k, ms(s.now())); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// SetImageRefs replaces the images a key's files reference.
func (s *Store) SetImageRefs(ctx context.Context, key string, images []string) error {
	return s.InTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM tend_image_ref WHERE key = $1`, key); err != nil {
			return fmt.Errorf("clear images of %s: %w", key, err)
		}
		for _, img := range images {
			if _, err := tx.Exec(ctx, `INSERT INTO tend_image_ref (key, image) VALUES ($1, $2) ON CONFLICT DO NOTHING`, key, img); err != nil {
				return fmt.Errorf("index image %s of %s: %w", img, key, err)
			}
		}
		return nil
	})
}

// KeysForImage lists the keys whose files reference image.
func (s *Store) KeysForImage(ctx context.Context, image string) ([]string, error) {
	out, err := s.column(ctx, `SELECT key FROM tend_image_ref WHERE image = $1 ORDER BY key LIMIT 10000`, image)
	if err != nil {
		return nil, fmt.Errorf("read keys of image %s: %w", image, err)
	}
	return out, nil
}

// DefaultBranch returns the cached default branch of repo ("" if unknown).
func (s *Store) DefaultBranch(ctx context.Context, repo string) (string, error) {
	var b string
	err := s.Q().QueryRow(ctx, `SELECT default_branch FROM tend_repo WHERE repo = $1`, strings.ToLower(repo)).Scan(&b)
	if errors.Is(err, ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read default branch of %s: %w", repo, err)
	}
	return b, nil
}

// SetDefaultBranch records repo's default branch.
func (s *Store) SetDefaultBranch(ctx context.Context, repo, branch string) error {
	if _, err := s.Q().Exec(ctx, `UPDATE tend_repo SET default_branch = $2 WHERE repo = $1`, strings.ToLower(repo), branch); err != nil {
		return fmt.Errorf("record default branch of %s: %w", repo, err)
	}
	return nil
}

// WaitForSlot records that key waits for a slot under repo's PR limit.
func (s *Store) WaitForSlot(ctx context.Context, repo, key string) error {
	if _, err := s.Q().Exec(ctx, `INSERT INTO tend_pr_wait (repo, key, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, strings.ToLower(repo), key, ms(s.now())); err != nil {
		return fmt.Errorf("record %s waiting for a PR slot: %w", key, err)
	}
	return nil
}

// StopWaiting removes key from the waiting list.
func (s *Store) StopWaiting(ctx context.Context, repo, key string) error {
	if _, err := s.Q().Exec(ctx, `DELETE FROM tend_pr_wait WHERE repo = $1 AND key = $2`, strings.ToLower(repo), key); err != nil {
		return fmt.Errorf("remove %s from the PR waiting list: %w", key, err)
	}
	return nil
}

// Waiting returns up to n keys waiting for a PR slot in repo, longest
// waiting first.
func (s *Store) Waiting(ctx context.Context, repo string, n int) ([]string, error) {
	out, err := s.column(ctx, `SELECT key FROM tend_pr_wait WHERE repo = $1 ORDER BY since, key LIMIT $2`, strings.ToLower(repo), n)
	if err != nil {
		return nil, fmt.Errorf("read keys waiting in %s: %w", repo, err)
	}
	return out, nil
}

// AddTokens adds n tokens to key's usage on day ("2006-01-02", UTC) and
// returns the day's total.
func (s *Store) AddTokens(ctx context.Context, key, day string, n int64) (int64, error) {
	var total int64
	err := s.Q().QueryRow(ctx, `INSERT INTO tend_token_usage (key, day, tokens) VALUES ($1, $2, $3)
ON CONFLICT (key, day) DO UPDATE SET tokens = tend_token_usage.tokens + $3 RETURNING tokens`, key, day, n).Scan(&total)
	if err != nil {
		return 0, fmt.Errorf("record tokens of %s: %w", key, err)
	}
	return total, nil
}

// TokensOn returns key's token usage on day.
func (s *Store) TokensOn(ctx context.Context, key, day string) (int64, error) {
	var n int64
	err := s.Q().QueryRow(ctx, `SELECT tokens FROM tend_token_usage WHERE key = $1 AND day = $2`, key, day).Scan(&n)
	if errors.Is(err, ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read tokens of %s: %w", key, err)
	}
	return n, nil
}

// AgentMemo is what the agent remembers of its last run of a key.
type AgentMemo struct {
	Inputs, Outcome, Head string
	At                    time.Time
}

// GetAgentMemo reads key's memo (zero when none).
func (s *Store) GetAgentMemo(ctx context.Context, key string) (AgentMemo, error) {
	var m AgentMemo
	var at int64
	err := s.Q().QueryRow(ctx, `SELECT inputs, outcome, head, at FROM tend_agent_memo WHERE key = $1`, key).Scan(&m.Inputs, &m.Outcome, &m.Head, &at)
	if errors.Is(err, ErrNoRows) {
		return AgentMemo{}, nil
	}
	if err != nil {
		return AgentMemo{}, fmt.Errorf("read agent memo of %s: %w", key, err)
	}
	m.At = fromMS(at)
	return m, nil
}

// SetAgentMemo records key's memo.
func (s *Store) SetAgentMemo(ctx context.Context, key string, m AgentMemo) error {
	_, err := s.Q().Exec(ctx, `INSERT INTO tend_agent_memo (key, inputs, outcome, head, at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (key) DO UPDATE SET inputs = $2, outcome = $3, head = $4, at = $5`, key, m.Inputs, m.Outcome, m.Head, ms(s.now()))
	if err != nil {
		return fmt.Errorf("record agent memo of %s: %w", key, err)
	}
	return nil
}
