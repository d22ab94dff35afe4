package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect is the database engine behind a Store.
type Dialect int

const (
	SQLite Dialect = iota + 1
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Store is an open, migrated database.
type Store struct {
	Dialect Dialect
	// DB is the SQLite handle (one connection; see OpenSQLite). Nil for Postgres.
	DB *sql.DB
	// Pool is the Postgres pool. Nil for SQLite.
	Pool *pgxpool.Pool
	// now is the clock; tests replace it.
	now func() time.Time
	// prepared holds SQLite statements prepared once, by query text.
	prepared map[string]*sql.Stmt
}

// Now returns the store's clock reading.
func (s *Store) Now() time.Time { return s.now() }

// SetClock replaces the clock (tests only).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// SQLiteDSN is the connection string for the database file in dir. WAL lets
// readers (the dlq command, the River UI) work while the server writes;
// immediate transactions take the write lock up front so two writers wait on
// busy_timeout instead of failing on upgrade. synchronous=FULL syncs the WAL
// at every commit, so a delivery tend acknowledged survives a power loss,
// not only a crash of the process (NORMAL syncs at checkpoints only); intake
// batches deliveries into group commits, and measured no slower at
// saturation (RELIABILITY.md).
func SQLiteDSN(dir string) string {
	return "file:" + filepath.Join(dir, "tend.db") +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)&_txlock=immediate"
}

// OpenSQLite opens (creating if needed) the embedded database in dir and
// migrates tend's tables.
func OpenSQLite(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", dir, err)
	}
	db, err := sql.Open("sqlite", SQLiteDSN(dir))
	if err != nil {
		return nil, fmt.Errorf("open sqlite in %s: %w", dir, err)
	}
	// River's SQLite driver needs a single connection: SQLite has one writer,
	// and River runs operations in parallel that would otherwise fail with
	// SQLITE_BUSY.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite in %s: %w", dir, err)
	}
	s := &Store{Dialect: SQLite, DB: db, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// PrepareHot prepares the queries of the intake and run paths on SQLite
// (Postgres's driver caches prepared statements by itself). Call it once
// River's tables exist and before any transaction runs: a statement prepared
// on the DB is then reused by transactions on its only connection
// (database/sql's Tx.StmtContext), which saves SQLite from parsing it again.
func (s *Store) PrepareHot(ctx context.Context) error {
	if s.Dialect != SQLite || s.prepared != nil {
		return nil
	}
	prepared := map[string]*sql.Stmt{}
	for _, q := range hotQueries {
		stmt, err := s.DB.PrepareContext(ctx, q)
		if err != nil {
			for _, st := range prepared {
				_ = st.Close()
			}
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		prepared[q] = stmt
	}
	s.prepared = prepared
	return nil
}

// OpenPostgres connects to url and migrates tend's tables.
func OpenPostgres(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	s := &Store{Dialect: Postgres, Pool: pool, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the database.
func (s *Store) Close() error {
	for _, st := range s.prepared {
		_ = st.Close()
	}
	if s.Pool != nil {
		s.Pool.Close()
	}
	if s.DB != nil {
		return s.DB.Close()
	}
	return nil
}

// Tx is a transaction on either engine, for tend's own queries. The queue
// hands one out that shares River's transaction, so a job's completion and
// tend's bookkeeping commit together.
type Tx interface {
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
	Query(ctx context.Context, query string, args ...any) (Rows, error)
}

// Row is one result row.
type Row interface{ Scan(dest ...any) error }

// Rows is a result set.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// ErrNoRows is returned by Row.Scan when the query found nothing, on both engines.
var ErrNoRows = errors.New("no rows")

// SQLTx adapts a database/sql transaction (or DB) to Tx. P, when set, maps
// query texts to statements prepared on the DB, which are used instead of
// preparing the query again.
type SQLTx struct {
	X querier
	P map[string]*sql.Stmt
}

// querier runs query texts: a *sql.Tx or *sql.DB, or a prepared statement.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// on returns what runs q: its prepared statement bound to the
// transaction, if any, else the transaction itself.
func (t SQLTx) on(ctx context.Context, q string) querier {
	st := t.P[q]
	if st == nil {
		return t.X
	}
	if tx, ok := t.X.(*sql.Tx); ok {
		st = tx.StmtContext(ctx, st)
	}
	return preparedQuerier{st}
}

// preparedQuerier runs its statement, whatever query text it is given.
type preparedQuerier struct{ st *sql.Stmt }

func (p preparedQuerier) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return p.st.ExecContext(ctx, args...)
}

func (p preparedQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.st.QueryContext(ctx, args...)
}

func (p preparedQuerier) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return p.st.QueryRowContext(ctx, args...)
}

func (t SQLTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.on(ctx, q).ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t SQLTx) QueryRow(ctx context.Context, q string, args ...any) Row {
	return sqlRow{t.on(ctx, q).QueryRowContext(ctx, q, args...)}
}

func (t SQLTx) Query(ctx context.Context, q string, args ...any) (Rows, error) {
	rows, err := t.on(ctx, q).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

// Wrap adapts a database/sql transaction of this store's database to Tx,
// with the store's prepared statements.
func (s *Store) Wrap(tx *sql.Tx) Tx { return SQLTx{X: tx, P: s.prepared} }

type sqlRow struct{ r *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	if err := r.r.Scan(dest...); errors.Is(err, sql.ErrNoRows) {
		return ErrNoRows
	} else {
		return err
	}
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// PgxTx adapts a pgx transaction (or pool) to Tx.
type PgxTx struct {
	X interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
}

func (t PgxTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.X.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (t PgxTx) QueryRow(ctx context.Context, q string, args ...any) Row {
	return pgxRow{t.X.QueryRow(ctx, q, args...)}
}

func (t PgxTx) Query(ctx context.Context, q string, args ...any) (Rows, error) {
	rows, err := t.X.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

type pgxRow struct{ r pgx.Row }

func (r pgxRow) Scan(dest ...any) error {
	if err := r.r.Scan(dest...); errors.Is(err, pgx.ErrNoRows) {
		return ErrNoRows
	} else {
		return err
	}
}

// Q returns a Tx that runs each statement on its own (autocommit).
func (s *Store) Q() Tx {
	if s.Dialect == Postgres {
		return PgxTx{X: s.Pool}
	}
	return SQLTx{X: s.DB, P: s.prepared}
}

// InTx runs fn in a transaction of tend's own (not River's), committing when
// fn returns nil.
func (s *Store) InTx(ctx context.Context, fn func(Tx) error) error {
	if s.Dialect == Postgres {
		return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error { return fn(PgxTx{X: tx}) })
	}
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(SQLTx{X: tx, P: s.prepared}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ForUpdate is the row-locking suffix for SELECTs that must serialise with
// concurrent writers. SQLite needs none: immediate transactions already hold
// the database's single write lock.
func (s *Store) ForUpdate() string {
	if s.Dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

//go:embed migrations
var migrations embed.FS

// migrate applies tend's migrations. They are written once, in the SQL both
// engines accept; the one difference, the binary column type, is rewritten
// for Postgres.
func (s *Store) migrate(ctx context.Context) error {
	const dir = "migrations"
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return s.InTx(ctx, func(tx Tx) error {
		if s.Dialect == Postgres {
			// Replicas starting together must not migrate at once.
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(7412013)"); err != nil {
				return fmt.Errorf("migration lock: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS tend_migration (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("create migration table: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM tend_migration`).Scan(&current); err != nil {
			return fmt.Errorf("read migration version: %w", err)
		}
		for _, e := range entries {
			num, _, ok := strings.Cut(e.Name(), "_")
			v, err := strconv.Atoi(num)
			if !ok || err != nil {
				return fmt.Errorf("migration %s: name must start with a number", e.Name())
			}
			if v <= current {
				continue
			}
			body, err := fs.ReadFile(migrations, dir+"/"+e.Name())
			if err != nil {
				return err
			}
			for _, stmt := range splitStatements(string(body)) {
				if s.Dialect == Postgres {
					stmt = strings.ReplaceAll(stmt, " BLOB", " BYTEA")
				}
				if _, err := tx.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("migration %s: %w", e.Name(), err)
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO tend_migration (version, applied_at) VALUES ($1, $2)`, v, s.now().UnixMilli()); err != nil {
				return fmt.Errorf("record migration %s: %w", e.Name(), err)
			}
		}
		return nil
	})
}

func splitStatements(sql string) []string {
	var out []string
	for _, part := range strings.Split(stripComments(sql), ";") {
		if strings.TrimSpace(part) != "" {
			out = append(out, part)
		}
	}
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}
