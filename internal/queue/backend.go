package queue

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"riverqueue.com/riverui"

	"github.com/tend-app/tend/internal/store"
)

// txn is one transaction shared by River and tend's own tables.
type txn interface {
	store.Tx
	insert(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	complete(ctx context.Context, job *river.Job[reconcileArgs]) error
	// retry makes a scheduled or retryable job available now.
	retry(ctx context.Context, id int64) error
}

// backend hides River's transaction type, which differs between the SQLite
// (database/sql) and Postgres (pgx) drivers, behind one interface, so the
// queue's logic is written once for both.
type backend interface {
	migrate(ctx context.Context) error
	newClient(cfg *river.Config) error
	inTx(ctx context.Context, fn func(txn) error) error
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
	insertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	jobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	jobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
	jobDelete(ctx context.Context, id int64) (*rivertype.JobRow, error)
	jobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	uiHandler(opts *riverui.HandlerOpts) (*riverui.Handler, error)
}

type riverBackend[TTx any] struct {
	driver riverdriver.Driver[TTx]
	client *river.Client[TTx]
	// begin opens a transaction and adapts it for tend's own queries.
	begin func(ctx context.Context) (TTx, store.Tx, func(context.Context) error, func(context.Context) error, error)
	// completeTx is river.JobCompleteTx instantiated for the driver.
	completeTx func(ctx context.Context, tx TTx, job *river.Job[reconcileArgs]) error
	// lockMigrations, when set, holds a lock while River's tables are
	// migrated and returns its release: replicas starting together on a new
	// Postgres database would otherwise apply the same migrations at once,
	// and all but one fail.
	lockMigrations func(ctx context.Context) (func(), error)
}

func newBackend(st *store.Store) backend {
	if st.Dialect == store.Postgres {
		return &riverBackend[pgx.Tx]{
			driver:         riverpgxv5.New(st.Pool),
			lockMigrations: func(ctx context.Context) (func(), error) { return sessionLock(ctx, st.Pool, migrationLockID) },
			begin: func(ctx context.Context) (pgx.Tx, store.Tx, func(context.Context) error, func(context.Context) error, error) {
				tx, err := st.Pool.Begin(ctx)
				if err != nil {
					return nil, nil, nil, nil, err
				}
				return tx, store.PgxTx{X: tx}, tx.Commit, tx.Rollback, nil
			},
			completeTx: func(ctx context.Context, tx pgx.Tx, job *river.Job[reconcileArgs]) error {
				_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
				return err
			},
		}
	}
	return &riverBackend[*sql.Tx]{
		driver: riversqlite.New(st.DB),
		begin: func(ctx context.Context) (*sql.Tx, store.Tx, func(context.Context) error, func(context.Context) error, error) {
			tx, err := st.DB.BeginTx(ctx, nil)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			return tx, st.Wrap(tx),
				func(context.Context) error { return tx.Commit() },
				func(context.Context) error { return tx.Rollback() }, nil
		},
		completeTx: func(ctx context.Context, tx *sql.Tx, job *river.Job[reconcileArgs]) error {
			_, err := river.JobCompleteTx[*riversqlite.Driver](ctx, tx, job)
			return err
		},
	}
}

func (b *riverBackend[TTx]) migrate(ctx context.Context) error {
	m, err := rivermigrate.New(b.driver, nil)
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if b.lockMigrations != nil {
		unlock, err := b.lockMigrations(ctx)
		if err != nil {
			return fmt.Errorf("migrate river tables: %w", err)
		}
		defer unlock()
	}
	// Not in one transaction: a River migration adds an enum value that a
	// later one uses, which Postgres refuses within one transaction.
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river tables: %w", err)
	}
	return nil
}

// migrationLockID names the advisory lock River's migrations run under.
const migrationLockID = 7412014

// sessionLock takes a session-level advisory lock on a connection of its
// own and returns its release; the lock also ends with the session if the
// process dies.
func sessionLock(ctx context.Context, pool *pgxpool.Pool, id int64) (func(), error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", id); err != nil {
		conn.Release()
		return nil, fmt.Errorf("lock: %w", err)
	}
	return func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", id); err != nil {
			// Closing the connection ends the session, and its lock.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
		conn.Release()
	}, nil
}

func (b *riverBackend[TTx]) newClient(cfg *river.Config) error {
	c, err := river.NewClient(b.driver, cfg)
	if err != nil {
		return fmt.Errorf("river client: %w", err)
	}
	b.client = c
	return nil
}

type riverTxn[TTx any] struct {
	store.Tx
	b  *riverBackend[TTx]
	tx TTx
}

func (t riverTxn[TTx]) insert(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	return t.b.client.InsertManyTx(ctx, t.tx, params)
}

func (t riverTxn[TTx]) retry(ctx context.Context, id int64) error {
	_, err := t.b.client.JobRetryTx(ctx, t.tx, id)
	return err
}

func (t riverTxn[TTx]) complete(ctx context.Context, job *river.Job[reconcileArgs]) error {
	return t.b.completeTx(ctx, t.tx, job)
}

func (b *riverBackend[TTx]) inTx(ctx context.Context, fn func(txn) error) error {
	tx, q, commit, rollback, err := b.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(riverTxn[TTx]{Tx: q, b: b, tx: tx}); err != nil {
		// Roll back on a context of its own: the caller's may be cancelled,
		// and a transaction left open would hold SQLite's only connection.
		_ = rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (b *riverBackend[TTx]) start(ctx context.Context) error { return b.client.Start(ctx) }
func (b *riverBackend[TTx]) stop(ctx context.Context) error  { return b.client.Stop(ctx) }
func (b *riverBackend[TTx]) stopAndCancel(ctx context.Context) error {
	return b.client.StopAndCancel(ctx)
}
func (b *riverBackend[TTx]) insertMany(ctx context.Context, p []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	return b.client.InsertMany(ctx, p)
}
func (b *riverBackend[TTx]) jobList(ctx context.Context, p *river.JobListParams) (*river.JobListResult, error) {
	return b.client.JobList(ctx, p)
}
func (b *riverBackend[TTx]) jobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return b.client.JobRetry(ctx, id)
}
func (b *riverBackend[TTx]) jobDelete(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return b.client.JobDelete(ctx, id)
}
func (b *riverBackend[TTx]) jobGet(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return b.client.JobGet(ctx, id)
}

func (b *riverBackend[TTx]) uiHandler(opts *riverui.HandlerOpts) (*riverui.Handler, error) {
	opts.Endpoints = riverui.NewEndpoints(b.client, nil)
	h, err := riverui.NewHandler(opts)
	if err != nil {
		return nil, fmt.Errorf("river ui: %w", err)
	}
	return h, nil
}
