package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// throwawayDB is a database created for one run on a Postgres server, so a
// run starts empty and leaves nothing behind.
type throwawayDB struct {
	admin, name, url string
}

// createThrowawayDB creates a fresh database on the server at admin (any
// database URL on it) and returns it with its URL.
func createThrowawayDB(ctx context.Context, admin string) (*throwawayDB, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return nil, fmt.Errorf("parse the Postgres URL: %w", err)
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return nil, fmt.Errorf("connect to Postgres: %w", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("tend_scale_%d_%d", os.Getpid(), time.Now().Unix())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	return &throwawayDB{admin: admin, name: name, url: u.String()}, nil
}

// drop removes the database (closing what still uses it).
func (d *throwawayDB) drop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "drop database %s: %v\n", d.name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.name}.Sanitize()+" WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "drop database %s: %v\n", d.name, err)
	}
}
