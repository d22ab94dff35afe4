package queue

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/testdb"
	"github.com/tend-app/tend/store"
)

// TestMain lets the test binary act as a tend worker process for the
// durability test, which needs a real process to kill.
func TestMain(m *testing.M) {
	if os.Getenv("TEND_QUEUE_CHILD") != "" {
		os.Exit(childWorker())
	}
	os.Exit(m.Run())
}

// childWorker runs a queue whose runner announces the run in a file and
// then hangs until it is killed.
func childWorker() int {
	ctx := context.Background()
	var st *store.Store
	var err error
	if u := os.Getenv("TEND_QUEUE_CHILD_PG"); u != "" {
		st, err = store.OpenPostgres(ctx, u)
	} else {
		st, err = store.OpenSQLite(ctx, os.Getenv("TEND_QUEUE_CHILD_DIR"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	marker := os.Getenv("TEND_QUEUE_CHILD")
	q, err := New(ctx, st, RunnerFunc(func(ctx context.Context, run Run) (Result, error) {
		_ = os.WriteFile(marker, []byte(run.Key.String()), 0o644)
		<-ctx.Done()
		return Result{}, ctx.Err()
	}), Options{Settle: NoSettle, PollInterval: 20 * time.Millisecond, ClientID: "doomed"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := q.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	select {} // until SIGKILL
}

// (f) Durable: kill -9 the process mid-run; a restarted process rescues the
// stuck job and the key runs again and completes.
func TestKillNineMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for River's leader lease and rescuer (about a minute)")
	}
	forEachEngine(t, func(t *testing.T, engine string) {
		dir := t.TempDir()
		env := []string{"TEND_QUEUE_CHILD=" + filepath.Join(dir, "started"), "TEND_QUEUE_CHILD_DIR=" + dir}
		var st *store.Store
		if engine == "postgres" {
			name := fmt.Sprintf("tend_f_%d", time.Now().UnixNano())
			env = append(env, "TEND_QUEUE_CHILD_PG="+testdb.URL(t, name))
			st = testdb.Open(t, engine, name)
		} else {
			st = testdb.Open(t, engine, dir)
		}
		ctx := context.Background()
		opts := fastOptions(t)
		opts.InsertOnly = true
		q, err := New(ctx, st, nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := q.Enqueue(ctx, keyA); err != nil {
			t.Fatal(err)
		}

		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), env...)
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "the child to start the run", func() bool {
			_, err := os.Stat(filepath.Join(dir, "started"))
			return err == nil
		})
		if err := child.Process.Kill(); err != nil { // SIGKILL: no cleanup at all
			t.Fatal(err)
		}
		_ = child.Wait()
		jobs := liveJobs(t, q, keyA.String())
		if len(jobs) != 1 || jobs[0].State != "running" {
			t.Fatalf("after kill -9 the job is %+v, want one running (orphaned) job", jobs)
		}

		// The replacement process: runs must time out well before they are
		// considered stuck, and stuck ones are rescued after seconds.
		rec := newRecorder(nil)
		o := fastOptions(t)
		o.JobTimeout = time.Second
		o.RescueAfter = 2 * time.Second
		o.ClientID = "replacement"
		startQueue(t, st, rec, o)
		eventually(t, 90*time.Second, "the rescued key to run again and complete", func() bool {
			return rec.count(keyA.String()) == 1 && len(liveJobs(t, q, keyA.String())) == 0
		})
		if dead, _ := q.DeadLetters(ctx); len(dead) != 0 {
			t.Errorf("the rescued key was dead-lettered: %+v", dead)
		}
	})
}
