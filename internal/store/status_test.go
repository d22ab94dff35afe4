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
