package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tend-app/tend/internal/keys"
)

// Decline returns what people declined for key, as stored by SetDecline
// ("" when nothing).
func (s *Store) Decline(ctx context.Context, key string) (string, error) {
	var d string
	err := s.Q().QueryRow(ctx, `SELECT decline FROM tend_decline WHERE key = $1`, key).Scan(&d)
	if errors.Is(err, ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the decline of %s: %w", key, err)
	}
	return d, nil
}

// SetDecline records what people declined for key (a key of repo).
func (s *Store) SetDecline(ctx context.Context, repo, key, decline string) error {
	_, err := s.Q().Exec(ctx, `INSERT INTO tend_decline (key, repo, decline, at) VALUES ($1, $2, $3, $4)
ON CONFLICT (key) DO UPDATE SET repo = $2, decline = $3, at = $4`, key, strings.ToLower(repo), decline, ms(s.now()))
	if err != nil {
		return fmt.Errorf("record the decline of %s: %w", key, err)
	}
	return nil
}

// ClearDecline forgets what people declined for key.
func (s *Store) ClearDecline(ctx context.Context, key string) error {
	if _, err := s.Q().Exec(ctx, `DELETE FROM tend_decline WHERE key = $1`, key); err != nil {
		return fmt.Errorf("clear the decline of %s: %w", key, err)
	}
	return nil
}

// RenameRepoDeclines moves the declines of repository from ("owner/name")
// to its new name to: each key is rewritten to name the new repository. A
// key the new name already has a decline for keeps that one.
func (s *Store) RenameRepoDeclines(ctx context.Context, from, to string) error {
	from, to = strings.ToLower(from), strings.ToLower(to)
	newOwner, newName, ok := strings.Cut(to, "/")
	if !ok || from == to {
		return nil
	}
	return s.InTx(ctx, func(tx Tx) error { return s.renameDeclines(ctx, tx, from, to, newOwner, newName) })
}

// renameDeclines is RenameRepoDeclines inside the caller's transaction.
func (s *Store) renameDeclines(ctx context.Context, tx Tx, from, to, newOwner, newName string) error {
	rows, err := tx.Query(ctx, `SELECT key, decline, at FROM tend_decline WHERE repo = $1`+s.ForUpdate(), from)
	if err != nil {
		return fmt.Errorf("read the declines of %s: %w", from, err)
	}
	type row struct {
		key, decline string
		at           int64
	}
	all, err := scanAll(rows, func(r Rows) (row, error) {
		var v row
		err := r.Scan(&v.key, &v.decline, &v.at)
		return v, err
	})
	if err != nil {
		return fmt.Errorf("read the declines of %s: %w", from, err)
	}
	for _, r := range all {
		k, err := keys.Parse(r.key)
		if err != nil {
			continue // not a key of tend's: left as it is
		}
		if _, err := tx.Exec(ctx, `DELETE FROM tend_decline WHERE key = $1`, r.key); err != nil {
			return fmt.Errorf("move the decline of %s: %w", r.key, err)
		}
		k.Owner, k.Repo = newOwner, newName
		if _, err := tx.Exec(ctx, `INSERT INTO tend_decline (key, repo, decline, at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`,
			k.String(), to, r.decline, r.at); err != nil {
			return fmt.Errorf("move the decline of %s: %w", r.key, err)
		}
	}
	return nil
}
