// Package testdb opens throwaway tend databases for tests: SQLite in a
// temporary directory always, and Postgres when TEND_TEST_POSTGRES_URL names
// a server the tests may create databases on (.ci/test starts one), so that
// suites written once run on both engines.
//
// Every test that needs Postgres finds it through this package. Without a
// server such a test is skipped with the reason, never left out silently;
// with TEND_REQUIRE_POSTGRES=1 (set by .ci/test when Postgres is installed)
// the skip becomes a failure.
package testdb

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tend-app/tend/internal/store"
)

// ForEachEngine runs fn as a subtest on each engine, so that the Postgres
// backend is held to exactly the same semantics as SQLite. The postgres
// subtest always exists: it skips (or fails, see PostgresURL) when no server
// is available.
func ForEachEngine(t *testing.T, fn func(t *testing.T, engine string)) {
	for _, e := range []string{"sqlite", "postgres"} {
		t.Run(e, func(t *testing.T) { fn(t, e) })
	}
}

// Environment variables of the Postgres tests.
const (
	// EnvPostgresURL is the admin URL of a server the tests may create
	// databases on.
	EnvPostgresURL = "TEND_TEST_POSTGRES_URL"
	// EnvRequirePostgres, when "1", fails Postgres tests that would skip.
	EnvRequirePostgres = "TEND_REQUIRE_POSTGRES"
)

// PostgresURL returns the admin URL of the test server. Without one it
// skips the test, or fails it when EnvRequirePostgres is "1".
func PostgresURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvPostgresURL); u != "" {
		return u
	}
	const why = "no Postgres for this test: " + EnvPostgresURL + " is not set (bash .ci/test starts a server)"
	if os.Getenv(EnvRequirePostgres) == "1" {
		t.Fatal(why + ", and " + EnvRequirePostgres + "=1 forbids skipping")
	}
	t.Skip(why)
	return ""
}

var seq atomic.Int64

// Open returns a fresh, migrated store on engine, closed when the test ends.
// For SQLite, dir (if not empty) is the data directory, so that a second
// store or a child process can open the same database.
func Open(t testing.TB, engine, dir string) *store.Store {
	t.Helper()
	ctx := context.Background()
	switch engine {
	case "sqlite":
		if dir == "" {
			dir = t.TempDir()
		}
		st, err := store.OpenSQLite(ctx, dir)
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	case "postgres":
		u := URL(t, dir) // skips or fails first when there is no server
		st, err := store.OpenPostgres(ctx, u)
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	t.Fatalf("unknown engine %q", engine)
	return nil
}

// URL returns the URL of a Postgres database for the test. name, if not
// empty, picks a database shared by calls with the same name in this test
// (a second "process"); otherwise a new database is created.
func URL(t testing.TB, name string) string {
	t.Helper()
	admin := PostgresURL(t)
	if name == "" || strings.ContainsRune(name, '/') {
		name = fmt.Sprintf("tend_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, seq.Add(1))
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to test postgres: %v", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatalf("check database: %v", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Fatalf("create database: %v", err)
		}
		t.Cleanup(func() {
			c, err := pgx.Connect(context.Background(), admin)
			if err != nil {
				return
			}
			defer c.Close(context.Background())
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		})
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgresURL, err)
	}
	u.Path = "/" + name
	return u.String()
}
