package queue

import (
	"github.com/tend-app/tend/reconcilers"

	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/internal/testdb"
	"github.com/tend-app/tend/internal/testwait"
)

// TestMain lets the test binary act as a tend worker process for the
// durability test, which needs a real process to kill.
func TestMain(m *testing.M) {
	if os.Getenv("TEND_QUEUE_CHILD") != "" {
		os.Exit(childWorker())
	}
	if os.Getenv("TEND_QUEUE_RECORDER") != "" {
		os.Exit(recordingWorker())
	}
	os.Exit(m.Run())
}

// childStore opens the database a child worker process shares with the test.
func childStore(ctx context.Context) (*store.Store, error) {
	if u := os.Getenv("TEND_QUEUE_CHILD_PG"); u != "" {
		return store.OpenPostgres(ctx, u)
	}
	return store.OpenSQLite(ctx, os.Getenv("TEND_QUEUE_CHILD_DIR"))
}

// recordingWorker runs a queue whose runner appends "key start end" (Unix
// nanoseconds) to a shared file for every run, until killed.
func recordingWorker() int {
	ctx := context.Background()
	st, err := childStore(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out, err := os.OpenFile(os.Getenv("TEND_QUEUE_RECORDER"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	q, err := New(ctx, st, RunnerFunc(func(ctx context.Context, run Run) (reconcilers.Result, error) {
		start := time.Now().UnixNano()
		time.Sleep(15 * time.Millisecond)
		// One write per line: O_APPEND keeps lines of two processes apart.
		_, _ = fmt.Fprintf(out, "%s %d %d %d\n", run.Key, start, time.Now().UnixNano(), os.Getpid())
		return reconcilers.Result{}, nil
	}), Options{Settle: NoSettle, PollInterval: 10 * time.Millisecond, ClientID: "recorder-" + strconv.Itoa(os.Getpid())})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := q.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	select {}
}

// sharedWithChildren opens a database that child worker processes (this
// test binary in a child mode, chosen by mode, "NAME=value") will share,
// and an insert-only queue on it for the test. It returns the queue and the
// environment to give the children.
func sharedWithChildren(t *testing.T, engine, dir, mode string) (*Queue, []string) {
	t.Helper()
	env := []string{mode, "TEND_QUEUE_CHILD_DIR=" + dir}
	var st *store.Store
	if engine == "postgres" {
		name := fmt.Sprintf("tend_child_%d", time.Now().UnixNano())
		env = append(env, "TEND_QUEUE_CHILD_PG="+testdb.URL(t, name))
		st = testdb.Open(t, engine, name)
	} else {
		st = testdb.Open(t, engine, dir)
	}
	opts := fastOptions(t)
	opts.InsertOnly = true
	q, err := New(context.Background(), st, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return q, env
}

// (b) across real processes: two worker processes share the database while
// events keep arriving; no key's runs ever overlap in time.
func TestNoConcurrentRunsAcrossRealProcesses(t *testing.T) {
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		dir := t.TempDir()
		record := filepath.Join(dir, "runs.log")
		q, env := sharedWithChildren(t, engine, dir, "TEND_QUEUE_RECORDER="+record)
		ctx := context.Background()
		for i := 0; i < 2; i++ {
			child := exec.Command(os.Args[0], "-test.run=^$")
			child.Env = append(os.Environ(), env...)
			child.Stderr = os.Stderr
			if err := child.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
		}
		ks := []keys.Key{keyA, keyB, keys.MustParse("acme/web:pin:c")}
		for i := 0; i < 80; i++ {
			if _, err := q.Intake(ctx, Delivery{ID: fmt.Sprintf("rp-%d", i)}, ks); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		for _, k := range ks {
			testwait.For(t, 30*time.Second, func() bool { return len(liveJobs(t, q, k.String())) == 0 }, "the queue to drain %s", k)
		}
		data, err := os.ReadFile(record)
		if err != nil {
			t.Fatal(err)
		}
		type span struct{ start, end int64 }
		runs := map[string][]span{}
		pids := map[int]bool{}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var k string
			var sp span
			var pid int
			if _, err := fmt.Sscanf(line, "%s %d %d %d", &k, &sp.start, &sp.end, &pid); err != nil {
				t.Fatalf("bad record line %q", line)
			}
			runs[k] = append(runs[k], sp)
			pids[pid] = true
		}
		if len(pids) != 2 {
			t.Errorf("runs came from %d processes, want both", len(pids))
		}
		for _, k := range ks {
			spans := runs[k.String()]
			if len(spans) < 2 {
				t.Errorf("%s ran %d times", k, len(spans))
			}
			sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
			for i := 1; i < len(spans); i++ {
				if spans[i].start < spans[i-1].end {
					t.Errorf("%s: two runs overlapped (%d < %d)", k, spans[i].start, spans[i-1].end)
				}
			}
		}
	})
}

// childWorker runs a queue whose runner announces the run in a file and
// then hangs until it is killed.
func childWorker() int {
	ctx := context.Background()
	st, err := childStore(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	marker := os.Getenv("TEND_QUEUE_CHILD")
	q, err := New(ctx, st, RunnerFunc(func(ctx context.Context, run Run) (reconcilers.Result, error) {
		_ = os.WriteFile(marker, []byte(run.Key.String()), 0o644)
		<-ctx.Done()
		return reconcilers.Result{}, ctx.Err()
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
	testdb.ForEachEngine(t, func(t *testing.T, engine string) {
		dir := t.TempDir()
		q, env := sharedWithChildren(t, engine, dir, "TEND_QUEUE_CHILD="+filepath.Join(dir, "started"))
		st := q.st
		ctx := context.Background()
		if _, err := q.Enqueue(ctx, keyA); err != nil {
			t.Fatal(err)
		}

		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), env...)
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, 30*time.Second, func() bool {
			_, err := os.Stat(filepath.Join(dir, "started"))
			return err == nil
		}, "the child to start the run")
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
		testwait.For(t, 3*time.Minute, func() bool {
			return rec.count(keyA.String()) == 1 && len(liveJobs(t, q, keyA.String())) == 0
		}, "the rescued key to run again and complete")
		if dead, _ := q.DeadLetters(ctx); len(dead) != 0 {
			t.Errorf("the rescued key was dead-lettered: %+v", dead)
		}
	})
}
