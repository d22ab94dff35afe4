package store_test

import (
	"context"
	"testing"

	"github.com/tend-app/tend/internal/store"
)

// Renaming a repository moves its keys' rows to the new name and leaves a
// repository whose name the old one is a prefix of alone.
func TestRenameRepoMovesRows(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for _, repo := range []string{"acme/web", "acme/web2"} {
			seedRepoRows(t, st, repo)
		}
		must(t, st.RenameRepo(ctx, "ACME/Web", "Other/Site"))
		for repo, want := range map[string]int{"acme/web": 0, "other/site": 1, "acme/web2": 1} {
			got := repoRows(t, st, repo)
			got = got[:len(got)-1] // the repository row is checked below
			for i, g := range got {
				if g != want {
					t.Errorf("%s: row kind %d: %d rows, want %d (%v)", repo, i, g, want, got)
				}
			}
		}
		if _, managed, _ := st.GetRepo(ctx, "acme/web"); managed {
			t.Error("the old name's repository row was kept")
		}
	})
}
