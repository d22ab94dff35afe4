package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/internal/testdb"
)

// forEachEngine runs fn on a fresh store of each engine.
func forEachEngine(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) { fn(t, testdb.Open(t, engine, "")) })
}

func parse(t *testing.T, s string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("x", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestRuleIndexAndSubscriptions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cfg := parse(t, `version: 1
rules:
  - {name: docs, reconciler: agent, prompt: p, paths: ["*.md"], on: {release: [self, Upstream/Lib]}}
  - {name: pin, reconciler: images, paths: ["x"]}
`)
		if err := st.SaveRepo(ctx, store.RepoRecord{Repo: "acme/web", InstallationID: 3, Managed: true, Source: "acme/.github@main", Path: "tend.yaml", Raw: []byte("raw")}, cfg); err != nil {
			t.Fatal(err)
		}
		for source, want := range map[string][]string{"acme/web": {"acme/web:docs"}, "upstream/lib": {"acme/web:docs"}, "UPSTREAM/LIB": {"acme/web:docs"}, "other/x": nil} {
			subs, err := st.ReleaseSubscribers(ctx, source)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range subs {
				got = append(got, s.Repo+":"+s.Rule)
			}
			if !slices.Equal(got, want) {
				t.Errorf("subscribers of %s = %v, want %v", source, got, want)
			}
		}
		users, err := st.ReposUsingConfig(ctx, "acme/.github")
		if err != nil || len(users) != 1 || users[0].Repo != "acme/web" || users[0].Path != "tend.yaml" {
			t.Errorf("users of acme/.github = %+v, %v", users, err)
		}
		rec, ok, err := st.GetRepo(ctx, "acme/web")
		if err != nil || !ok || string(rec.Raw) != "raw" || rec.InstallationID != 3 {
			t.Errorf("GetRepo = %+v %v %v", rec, ok, err)
		}
		// Dropping a rule drops its subscriptions; an unmanaged save drops all.
		if err := st.SaveRepo(ctx, store.RepoRecord{Repo: "acme/web", Managed: true}, parse(t, "version: 1\nrules:\n  - {name: pin, reconciler: images, paths: [x]}\n")); err != nil {
			t.Fatal(err)
		}
		if subs, _ := st.ReleaseSubscribers(ctx, "upstream/lib"); len(subs) != 0 {
			t.Errorf("subscriptions of a removed rule remain: %+v", subs)
		}
		if rec, _, _ := st.GetRepo(ctx, "acme/web"); rec.InstallationID != 3 {
			t.Errorf("a save without an installation id forgot it: %d", rec.InstallationID)
		}
		if err := st.ForgetRepo(ctx, "ACME/Web"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := st.GetRepo(ctx, "acme/web"); ok {
			t.Errorf("ForgetRepo left the repository")
		}
	})
}

func TestPRSlots(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		// Concurrent reservations never exceed the limit.
		var wg sync.WaitGroup
		var mu sync.Mutex
		granted := 0
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				ok, err := st.ReservePR(ctx, "Acme/Web", fmt.Sprintf("acme/web:r:%d", i), 3)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					granted++
					mu.Unlock()
				}
			}(i)
		}
		wg.Wait()
		if granted != 3 {
			t.Fatalf("%d slots granted under a limit of 3", granted)
		}
		if ok, _ := st.ReservePR(ctx, "acme/web", "acme/web:r:new", 3); ok {
			t.Errorf("a fourth slot was granted")
		}
		// A recount from GitHub that shows only one PR keeps the fresh
		// reservations (their PRs may be on their way)...
		if err := st.SyncPRSlots(ctx, "acme/web", []string{"acme/web:r:x"}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := st.ReservePR(ctx, "acme/web", "acme/web:r:new", 3); ok {
			t.Errorf("a recount dropped in-flight reservations")
		}
		// ...and drops them once they are old.
		later := st.Now().Add(time.Hour)
		st.SetClock(func() time.Time { return later })
		if err := st.SyncPRSlots(ctx, "acme/web", []string{"acme/web:r:x"}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := st.ReservePR(ctx, "acme/web", "acme/web:r:new", 3); !ok {
			t.Errorf("a stale reservation kept its slot")
		}
		if ok, _ := st.ReservePR(ctx, "acme/web", "acme/web:r:new", 2); !ok {
			t.Errorf("a key that holds a slot lost it")
		}
		if err := st.ReleasePR(ctx, "acme/web", "acme/web:r:new"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := st.ReservePR(ctx, "acme/web", "acme/web:r:other", 2); !ok {
			t.Errorf("a released slot was not granted again")
		}
		// The waiting list.
		for _, k := range []string{"acme/web:r:b", "acme/web:r:a", "acme/web:r:b"} {
			if err := st.WaitForSlot(ctx, "acme/web", k); err != nil {
				t.Fatal(err)
			}
		}
		w, err := st.Waiting(ctx, "acme/web", 10)
		if err != nil || len(w) != 2 {
			t.Fatalf("waiting = %v %v", w, err)
		}
		if err := st.StopWaiting(ctx, "acme/web", "acme/web:r:b"); err != nil {
			t.Fatal(err)
		}
		if w, _ := st.Waiting(ctx, "acme/web", 10); !slices.Equal(w, []string{"acme/web:r:a"}) {
			t.Errorf("waiting after StopWaiting = %v", w)
		}
	})
}

func TestImageIndexAndBranch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.SetImageRefs(ctx, "acme/web:pin:a", []string{"index.docker.io/library/nginx", "ghcr.io/acme/app"}); err != nil {
			t.Fatal(err)
		}
		if err := st.SetImageRefs(ctx, "acme/web:pin:b", []string{"ghcr.io/acme/app"}); err != nil {
			t.Fatal(err)
		}
		if err := st.SetImageRefs(ctx, "acme/web:pin:a", []string{"index.docker.io/library/nginx"}); err != nil {
			t.Fatal(err)
		}
		got, err := st.KeysForImage(ctx, "ghcr.io/acme/app")
		if err != nil || !slices.Equal(got, []string{"acme/web:pin:b"}) {
			t.Errorf("keys of ghcr.io/acme/app = %v %v", got, err)
		}
		if err := st.SaveRepo(ctx, store.RepoRecord{Repo: "acme/web", Managed: true}, parse(t, "version: 1\nrules: []\n")); err != nil {
			t.Fatal(err)
		}
		if err := st.SetDefaultBranch(ctx, "acme/web", "trunk"); err != nil {
			t.Fatal(err)
		}
		if b, err := st.DefaultBranch(ctx, "ACME/web"); err != nil || b != "trunk" {
			t.Errorf("default branch = %q %v", b, err)
		}
		if b, err := st.DefaultBranch(ctx, "acme/none"); err != nil || b != "" {
			t.Errorf("default branch of an unknown repo = %q %v", b, err)
		}
	})
}

// The repositories of an installation are those whose config tend loaded
// through it; installation 0 (unknown) names none.
func TestReposOfInstallation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cfg := parse(t, "version: 1\nrules: []\n")
		for _, r := range []store.RepoRecord{
			{Repo: "acme/web", InstallationID: 7, Managed: true},
			{Repo: "acme/api", InstallationID: 7},
			{Repo: "corp/site", InstallationID: 8, Managed: true},
			{Repo: "old/thing"},
		} {
			if err := st.SaveRepo(ctx, r, cfg); err != nil {
				t.Fatal(err)
			}
		}
		for id, want := range map[int64][]string{7: {"acme/api", "acme/web"}, 8: {"corp/site"}, 9: nil, 0: nil} {
			got, err := st.ReposOfInstallation(ctx, id)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("repositories of installation %d = %v %v, want %v", id, got, err, want)
			}
		}
	})
}

func TestDeliveriesAndKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		err := st.InTx(ctx, func(tx store.Tx) error {
			for i := 0; i < 3; i++ {
				fresh, err := st.RecordDelivery(ctx, tx, "d1", "push", 1)
				if err != nil {
					return err
				}
				if fresh != (i == 0) {
					return fmt.Errorf("delivery %d fresh=%v", i, fresh)
				}
			}
			if _, err := st.BumpKey(ctx, tx, "acme/web:r:a", "d1", "push:a..b", 3); err != nil {
				return err
			}
			gen, err := st.BumpKey(ctx, tx, "acme/web:r:a", "", "resync", 1)
			if err != nil || gen != 4 {
				return fmt.Errorf("generation %d %v", gen, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		k, err := st.GetKey(ctx, st.Q(), "acme/web:r:a", false)
		if err != nil || k.Generation != 4 || k.LastDelivery != "d1" || k.LastTrigger != "resync" || k.PendingSince.IsZero() {
			t.Errorf("key = %+v %v", k, err)
		}
		if n, err := st.PruneDeliveries(ctx, st.Now().Add(time.Second)); err != nil || n != 1 {
			t.Errorf("pruned %d %v", n, err)
		}
	})
}

// A click on a check run's button asks for something no re-read finds (a
// fresh check run, a recreate): a later event must not replace it before a
// run has started, and once a run started, the next event's trigger wins.
func TestButtonTriggerSurvivesLaterEvents(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const key = "acme/web:r:a"
		bump := func(trigger string) {
			t.Helper()
			if err := st.InTx(ctx, func(tx store.Tx) error {
				_, err := st.BumpKey(ctx, tx, key, "", trigger, 1)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		trigger := func() string {
			t.Helper()
			k, err := st.GetKey(ctx, st.Q(), key, false)
			if err != nil {
				t.Fatal(err)
			}
			return k.LastTrigger
		}
		bump("push:a..b")
		bump("check_run:rerequested")
		bump("push:b..c")
		if got := trigger(); got != "check_run:rerequested" {
			t.Fatalf("a push replaced the pending Re-run click: trigger %q", got)
		}
		bump("check_run:requested_action:recreate")
		bump("check_run:rerequested")
		if got := trigger(); got != "check_run:requested_action:recreate" {
			t.Fatalf("a Re-run replaced the pending Recreate click: trigger %q", got)
		}
		if err := st.StartRun(ctx, st.Q(), key); err != nil {
			t.Fatal(err)
		}
		bump("push:c..d")
		if got := trigger(); got != "push:c..d" {
			t.Fatalf("after a run started, the next event's trigger is %q, want push:c..d", got)
		}
	})
}
