package store

import (
	"context"
	"fmt"
	"time"
)

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, s *Store, what, query string, scan func(Rows) (T, error), args ...any) ([]T, error) {
	rows, err := s.Q().Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// RecentRun is a key's last run, for the operator status page.
type RecentRun struct {
	Key      string
	At       time.Time
	Outcome  string
	Duration time.Duration
	PR       int
	Tokens   int64 // model tokens the key spent today (UTC)
}

// RecentRuns lists the keys that ran most recently, newest first.
func (s *Store) RecentRuns(ctx context.Context, limit int) ([]RecentRun, error) {
	day := s.now().UTC().Format("2006-01-02")
	return queryAll(ctx, s, "recent runs", `SELECT k.key, k.last_run_at, COALESCE(k.last_outcome, ''), k.last_duration_ms, k.last_pr, COALESCE(u.tokens, 0)
		FROM tend_key k LEFT JOIN tend_token_usage u ON u.key = k.key AND u.day = $2
		WHERE k.last_run_at IS NOT NULL ORDER BY k.last_run_at DESC LIMIT $1`,
		func(rows Rows) (RecentRun, error) {
			var r RecentRun
			var at, dur, pr int64
			err := rows.Scan(&r.Key, &at, &r.Outcome, &dur, &pr, &r.Tokens)
			r.At, r.Duration, r.PR = fromMS(at), time.Duration(dur)*time.Millisecond, int(pr)
			return r, err
		}, limit, day)
}

// ConfigProblem is a repository whose config is invalid.
type ConfigProblem struct {
	Repo, Path, Errors string
}

// InvalidConfigs lists the repositories whose config is invalid.
func (s *Store) InvalidConfigs(ctx context.Context, limit int) ([]ConfigProblem, error) {
	return queryAll(ctx, s, "invalid configs", `SELECT repo, config_path, config_errors FROM tend_repo WHERE config_errors <> '' ORDER BY repo LIMIT $1`,
		func(rows Rows) (ConfigProblem, error) {
			var p ConfigProblem
			return p, rows.Scan(&p.Repo, &p.Path, &p.Errors)
		}, limit)
}

// RepoPRs counts a repository's open tend PRs (its slots) and the keys
// waiting for one.
type RepoPRs struct {
	Repo          string
	Open, Waiting int
}

// PRCounts lists the repositories with open tend PRs or waiting keys.
func (s *Store) PRCounts(ctx context.Context, limit int) ([]RepoPRs, error) {
	return queryAll(ctx, s, "PR counts", `SELECT repo, SUM(open), SUM(waiting) FROM (
			SELECT repo, 1 AS open, 0 AS waiting FROM tend_pr_slot
			UNION ALL SELECT repo, 0, 1 FROM tend_pr_wait
		) c GROUP BY repo ORDER BY repo LIMIT $1`,
		func(rows Rows) (RepoPRs, error) {
			var r RepoPRs
			var open, waiting int64
			err := rows.Scan(&r.Repo, &open, &waiting)
			r.Open, r.Waiting = int(open), int(waiting)
			return r, err
		}, limit)
}

// OldestPending is when the key that has waited longest for its run got
// its first unhandled event; zero when no key is pending.
func (s *Store) OldestPending(ctx context.Context) (time.Time, error) {
	var oldest int64
	if err := s.Q().QueryRow(ctx, `SELECT COALESCE(MIN(pending_since), 0) FROM tend_key WHERE pending_since IS NOT NULL`).Scan(&oldest); err != nil {
		return time.Time{}, fmt.Errorf("oldest pending key: %w", err)
	}
	if oldest == 0 {
		return time.Time{}, nil
	}
	return fromMS(oldest), nil
}
