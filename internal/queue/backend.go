package queue

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
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
}

func newBackend(st *store.Store) backend {
	if st.Dialect == store.Postgres {
		return &riverBackend[pgx.Tx]{
			driver: riverpgxv5.New(st.Pool),
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
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river tables: %w", err)
	}
	return nil
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
