package queue

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/testdb"
	"github.com/tend-app/tend/internal/testwait"
)

// lister is an Options.InstallationRepos that answers from a table, fails
// its first calls when told to, and logs what it was asked.
type lister struct {
	mu       sync.Mutex
	repos    map[int64][]keys.Key
	failures int
	asked    []int64
}

func (l *lister) list(_ context.Context, id int64) ([]keys.Key, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked = append(l.asked, id)
	if l.failures > 0 {
		l.failures--
		return nil, errors.New("GitHub is unavailable")
	}
	return l.repos[id], nil
}

func (l *lister) calls() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.asked)
}

// A delivery that names an installation instead of its repositories is
// taken in with the keys it does name, in one transaction; a durable job
// then lists the installation (retrying a failure) and enqueues every
// repository with the delivery's trigger. A redelivery asks for nothing.
func TestIntakeListsInstallations(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		known, unseen := keys.MustParse("acme/web"), keys.MustParse("acme/new")
		l := &lister{repos: map[int64][]keys.Key{7: {known, unseen}}, failures: 1}
		rec := newRecorder(nil)
		opts := fastOptions(t)
		opts.InstallationRepos = l.list
		q := startQueue(t, st, rec, opts)
		ctx := context.Background()

		d := Delivery{ID: "d-unsuspend", Event: "installation", Trigger: "installation:unsuspend", Installations: []int64{7, 7}}
		res, err := q.Intake(ctx, d, []keys.Key{known})
		if err != nil || res.Inserted != 1 || res.Listings != 1 {
			t.Fatalf("intake = %+v %v; want the known repository and one listing", res, err)
		}
		testwait.For(t, time.Minute, func() bool { return rec.count(unseen.String()) > 0 }, "the listed repository to run")
		settled(t, q, rec, unseen)
		settled(t, q, rec, known)
		if calls := l.calls(); !slices.Equal(calls, []int64{7, 7}) {
			t.Errorf("listings asked %v; want installation 7, failed once then retried", calls)
		}
		st1, err := q.KeyState(ctx, unseen.String())
		if err != nil {
			t.Fatal(err)
		}
		if st1.LastTrigger != "installation:unsuspend" || st1.LastDelivery != "d-unsuspend" || rec.count(unseen.String()) != 1 {
			t.Errorf("the listed repository: %+v, %d runs; want one run triggered by the unsuspend delivery", st1, rec.count(unseen.String()))
		}

		again, err := q.Intake(ctx, d, nil)
		if err != nil || !again.Duplicate || again.Listings != 0 {
			t.Fatalf("redelivery = %+v %v; want a duplicate asking for nothing", again, err)
		}
		// A delivery naming only an installation is not "empty".
		only, err := q.Intake(ctx, Delivery{ID: "d-perms", Event: "installation", Installations: []int64{7}}, nil)
		if err != nil || only.Listings != 1 {
			t.Fatalf("a delivery naming only an installation = %+v %v", only, err)
		}
		testwait.For(t, time.Minute, func() bool { return rec.count(unseen.String()) == 2 }, "the repository to run again after the second listing")
		settled(t, q, rec, unseen)
		if calls := l.calls(); len(calls) != 3 {
			t.Errorf("listings %v; the redelivery must not have listed again", calls)
		}
	})
}
