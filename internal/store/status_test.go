package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/store"
)

func TestStatusQueries(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		st.SetClock(func() time.Time { return now })
		for _, k := range []string{"acme/web:r:a", "acme/web:r:b"} {
			if _, err := st.BumpKey(ctx, st.Q(), k, "d1", "push", 1); err != nil {
				t.Fatal(err)
			}
		}
		if oldest, err := st.OldestPending(ctx); err != nil || !oldest.Equal(now) {
			t.Errorf("oldest pending = %v, %v", oldest, err)
		}
		now = now.Add(time.Minute)
		if err := st.StartRun(ctx, st.Q(), "acme/web:r:a"); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishRun(ctx, st.Q(), "acme/web:r:a", store.RunRecord{Outcome: "pr-opened", Duration: 1500 * time.Millisecond, PR: 7}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddTokens(ctx, "acme/web:r:a", now.Format("2006-01-02"), 1234); err != nil {
			t.Fatal(err)
		}
		runs, err := st.RecentRuns(ctx, 10)
		if err != nil || len(runs) != 1 {
			t.Fatalf("recent runs = %+v, %v", runs, err)
		}
		if r := runs[0]; r.Key != "acme/web:r:a" || r.Outcome != "pr-opened" || r.PR != 7 || r.Duration != 1500*time.Millisecond || r.Tokens != 1234 || !r.At.Equal(now) {
			t.Errorf("run = %+v", r)
		}

		if err := st.SaveRepo(ctx, store.RepoRecord{Repo: "acme/bad", Managed: true, Path: ".github/tend.yaml", Errors: "x:1:1: broken", LoadedAt: now}, nil); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveRepo(ctx, store.RepoRecord{Repo: "acme/good", Managed: true, Path: ".github/tend.yaml", LoadedAt: now}, &config.Config{}); err != nil {
			t.Fatal(err)
		}
		bad, err := st.InvalidConfigs(ctx, 10)
		if err != nil || len(bad) != 1 || bad[0].Repo != "acme/bad" || bad[0].Errors != "x:1:1: broken" {
			t.Errorf("invalid configs = %+v, %v", bad, err)
		}

		for _, k := range []string{"acme/web:r:a", "acme/web:r:b"} {
			if ok, err := st.ReservePR(ctx, "acme/web", k, 10); err != nil || !ok {
				t.Fatal(ok, err)
			}
		}
		if err := st.WaitForSlot(ctx, "acme/web", "acme/web:r:c"); err != nil {
			t.Fatal(err)
		}
		if err := st.WaitForSlot(ctx, "acme/other", "acme/other:r:c"); err != nil {
			t.Fatal(err)
		}
		counts, err := st.PRCounts(ctx, 10)
		if err != nil || len(counts) != 2 || counts[0] != (store.RepoPRs{Repo: "acme/other", Waiting: 1}) || counts[1] != (store.RepoPRs{Repo: "acme/web", Open: 2, Waiting: 1}) {
			t.Errorf("PR counts = %+v, %v", counts, err)
		}
	})
}

// Forgetting a repository deletes every row about it and nothing about a
// repository whose name it is a prefix of, or that differs by a LIKE
// wildcard.
func TestForgetRepoDeletesEverything(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for _, repo := range []string{"acme/a_b", "acme/a-b", "acme/a_bc"} {
			seedRepoRows(t, st, repo)
		}
		must(t, st.ForgetRepo(ctx, "ACME/A_B"))
		for repo, want := range map[string]int{"acme/a_b": 0, "acme/a-b": 1, "acme/a_bc": 1} {
			got := repoRows(t, st, repo)
			for i, g := range got {
				if g != want {
					t.Errorf("%s: row kind %d: %d rows left, want %d (%v)", repo, i, g, want, got)
				}
			}
		}
	})
}

// seedRepoRows gives repo one row of every kind ForgetRepo and RenameRepo
// handle, for its key "repo:r:x.yaml".
func seedRepoRows(t *testing.T, st *store.Store, repo string) {
	t.Helper()
	ctx := context.Background()
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

// repoRows counts the rows seedRepoRows gave repo that are left, by kind:
// open PR slots, waiting keys, image references, agent memos, token counts,
// declines, and the repository row.
func repoRows(t *testing.T, st *store.Store, repo string) []int {
	t.Helper()
	ctx := context.Background()
	k := repo + ":r:x.yaml"
	open, waiting := 0, 0
	counts, err := st.PRCounts(ctx, 10)
	must(t, err)
	for _, c := range counts {
		if c.Repo == repo {
			open, waiting = c.Open, c.Waiting
		}
	}
	images := 0
	ks, err := st.KeysForImage(ctx, "docker.io/library/nginx")
	must(t, err)
	for _, got := range ks {
		if got == k {
			images++
		}
	}
	memo, _ := st.GetAgentMemo(ctx, k)
	tokens, _ := st.TokensOn(ctx, k, "2026-12-02")
	decline, _ := st.Decline(ctx, k)
	_, managed, _ := st.GetRepo(ctx, repo)
	return []int{open, waiting, images, boolInt(memo.Inputs != ""), boolInt(tokens > 0), boolInt(decline != ""), boolInt(managed)}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
