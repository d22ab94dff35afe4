package store

import (
	"context"
	"fmt"
	"strings"
)

// Key rewriting for RenameRepo: $1 is the old lower-case owner/name, $2 the
// new. A key of the repository is the name itself or starts with "name:";
// prefix compares, not LIKE, since "_" in a name would be a wildcard.
const (
	oldName = `CAST($1 AS TEXT)`
	newName = `CAST($2 AS TEXT)`
)

// ofRepoKey matches the keys of the repository named by param in column.
func ofRepoKey(column, param string) string {
	return `(` + column + ` = ` + param + ` OR substr(` + column + `, 1, length(` + param + `) + 1) = ` + param + ` || ':')`
}

// renamedKey is column's key rewritten to name the new repository.
func renamedKey(column string) string {
	return newName + ` || substr(` + column + `, length(` + oldName + `) + 1)`
}

// renameStatements move a repository's rows to its new name. Rows the new
// name already has win where the two would collide (they are newer), except
// for PR slots, waits, image references and token counts, which the old
// name's rows replace: they describe the PRs that already exist.
func renameStatements() []string {
	var out []string
	for _, table := range []string{"tend_key", "tend_agent_memo"} {
		out = append(out,
			`DELETE FROM `+table+` WHERE `+ofRepoKey(table+".key", oldName)+
				` AND EXISTS (SELECT 1 FROM `+table+` d WHERE d.key = `+renamedKey(table+".key")+`)`,
			`UPDATE `+table+` SET key = `+renamedKey("key")+` WHERE `+ofRepoKey("key", oldName))
	}
	for _, table := range []string{"tend_image_ref", "tend_token_usage"} {
		out = append(out,
			`DELETE FROM `+table+` WHERE `+ofRepoKey("key", newName),
			`UPDATE `+table+` SET key = `+renamedKey("key")+` WHERE `+ofRepoKey("key", oldName))
	}
	for _, table := range []string{"tend_pr_slot", "tend_pr_wait"} {
		out = append(out,
			`DELETE FROM `+table+` WHERE repo = `+newName,
			`UPDATE `+table+` SET repo = `+newName+`, key = `+renamedKey("key")+` WHERE repo = `+oldName)
	}
	// The config, rules and default branch are read again by the resync of
	// the new name; under the old name they would only go stale.
	for _, table := range []string{"tend_release_sub", "tend_rule", "tend_repo"} {
		out = append(out, `DELETE FROM `+table+` WHERE repo = `+oldName)
	}
	// Every statement takes both parameters (Postgres refuses one it cannot
	// type); from and to differ, so the extra condition always holds.
	for i, q := range out {
		if !strings.Contains(q, "$1") || !strings.Contains(q, "$2") {
			out[i] = q + ` AND ` + oldName + ` <> ` + newName
		}
	}
	return out
}

// RenameRepo moves what tend knows of repository from ("owner/name") to
// its new name to, in one transaction: keys, PR slots and waiting keys,
// image index, agent memos and token counts, and declines. The repository
// row, rules and subscriptions of the old name are dropped for the new
// name's resync to record afresh.
func (s *Store) RenameRepo(ctx context.Context, from, to string) error {
	from, to = strings.ToLower(from), strings.ToLower(to)
	newOwner, newRepo, ok := strings.Cut(to, "/")
	if !ok || from == to || !strings.Contains(from, "/") {
		return nil
	}
	return s.InTx(ctx, func(tx Tx) error {
		for _, q := range renameStatements() {
			if _, err := tx.Exec(ctx, q, from, to); err != nil {
				return fmt.Errorf("rename %s to %s: %w", from, to, err)
			}
		}
		return s.renameDeclines(ctx, tx, from, to, newOwner, newRepo)
	})
}
