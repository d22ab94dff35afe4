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
			k := repo + ":r:x.yaml"
			must(t, st.SaveRepo(ctx, store.RepoRecord{Repo: repo, Managed: true}, nil))
			if ok, err := st.ReservePR(ctx, repo, k, 5); err != nil || !ok {
				t.Fatal(ok, err)
			}
			must(t, st.WaitForSlot(ctx, repo, k+"2"))
			must(t, st.SetImageRefs(ctx, k, []string{"docker.io/library/nginx"}))
			must(t, st.SetAgentMemo(ctx, k, store.AgentMemo{Inputs: "i", Outcome: "o"}))
			if _, err := st.AddTokens(ctx, k, "2026-12-02", 5); err != nil {
				t.Fatal(err)
			}
			must(t, st.SetDecline(ctx, repo, k, `{"reason":"no"}`))
		}
		must(t, st.RenameRepo(ctx, "ACME/Web", "Other/Site"))
		for repo, want := range map[string]int{"acme/web": 0, "other/site": 1, "acme/web2": 1} {
			k := repo + ":r:x.yaml"
			open, waiting := 0, 0
			counts, _ := st.PRCounts(ctx, 10)
			for _, c := range counts {
				if c.Repo == repo {
					open, waiting = c.Open, c.Waiting
				}
			}
			images := 0
			ks, _ := st.KeysForImage(ctx, "docker.io/library/nginx")
			for _, got := range ks {
				if got == k {
					images++
				}
			}
			memo, _ := st.GetAgentMemo(ctx, k)
			tokens, _ := st.TokensOn(ctx, k, "2026-12-02")
			decline, _ := st.Decline(ctx, k)
			got := []int{open, waiting, images, boolInt(memo.Inputs != ""), boolInt(tokens > 0), boolInt(decline != "")}
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
