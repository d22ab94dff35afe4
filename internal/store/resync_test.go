package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/store"
)

// A rule tend indexes for the first time is due for a resync at once, with
// periodic resync or without; a rule sync that ran (for an installation or a
// config change) takes the due resync's place, so it does not run twice;
// afterwards a rule resyncs once a period and a rule with resync off never.
func TestNewRulesAreDueOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now()
		st.SetClock(func() time.Time { return now })
		cfg := parse(t, `version: 1
rules:
  - {name: pin, reconciler: images, paths: ["*.yaml"], on: {resync: 1h}}
  - {name: docs, reconciler: images, paths: ["*.md"], on: {resync: 1h}}
  - {name: never, reconciler: images, paths: ["x"], on: {resync: "off"}}
  - {name: synced, reconciler: images, paths: ["y"], on: {resync: "off"}}
`)
		if err := st.SaveRepo(ctx, store.RepoRecord{Repo: "acme/web", Managed: true}, cfg); err != nil {
			t.Fatal(err)
		}
		claim := func(at time.Time) []string {
			st.SetClock(func() time.Time { return at })
			var out []string
			if err := st.InTx(ctx, func(tx store.Tx) error {
				due, err := st.ClaimDueResyncs(ctx, tx, 100)
				for _, d := range due {
					out = append(out, d.Rule)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if err := st.RuleSynced(ctx, "Acme/Web", "docs"); err != nil {
			t.Fatal(err)
		}
		if err := st.RuleSynced(ctx, "acme/web", "synced"); err != nil {
			t.Fatal(err)
		}
		if got := claim(now); len(got) != 2 || got[0] != "never" || got[1] != "pin" {
			t.Errorf("due at once: %v, want [never pin] (docs and synced were just resynced)", got)
		}
		if got := claim(now.Add(time.Minute)); len(got) != 0 {
			t.Errorf("due a minute later: %v, want none", got)
		}
		// Saving the same config again (another push) changes nothing.
		if err := st.SaveRepo(ctx, store.RepoRecord{Repo: "acme/web", Managed: true}, cfg); err != nil {
			t.Fatal(err)
		}
		if got := claim(now.Add(2 * time.Minute)); len(got) != 0 {
			t.Errorf("due after a re-save: %v, want none", got)
		}
		if got := claim(now.Add(61 * time.Minute)); len(got) != 2 || got[0] != "docs" || got[1] != "pin" {
			t.Errorf("due after a period: %v, want [docs pin]", got)
		}
		if got := claim(now.Add(30 * time.Hour)); len(got) != 2 {
			t.Errorf("due after a day: %v, want [docs pin] once more", got)
		}
	})
}
