package queue

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/riverqueue/river/rivertype"

	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/testdb"
)

func TestStatsAndCollector(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		st := testdb.Open(t, engine, "")
		q := insertOnlyQueue(t, st)
		ctx := context.Background()
		if _, err := q.Intake(ctx, Delivery{ID: "d-1", Event: "push"}, []keys.Key{keyA, keyB}); err != nil {
			t.Fatal(err)
		}
		s, err := q.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		queued := s.ByState[rivertype.JobStateAvailable] + s.ByState[rivertype.JobStateScheduled]
		if queued != 2 || s.DeadLetters != 0 || s.OldestPending.IsZero() {
			t.Errorf("stats = %+v", s)
		}
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(NewStatsCollector(q))
		if n, err := testutil.GatherAndCount(reg, "tend_queue_jobs", "tend_queue_oldest_pending_seconds", "tend_queue_dead_letters"); err != nil || n != len(rivertype.JobStates())+2 {
			t.Errorf("gathered %d series, %v", n, err)
		}
		want := "# HELP tend_queue_dead_letters Dead-lettered keys (discarded or cancelled jobs).\n# TYPE tend_queue_dead_letters gauge\ntend_queue_dead_letters 0\n"
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tend_queue_dead_letters"); err != nil {
			t.Error(err)
		}
	})
}
