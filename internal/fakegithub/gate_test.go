package fakegithub

import (
	"testing"
	"time"
)

// A delayed path is served after its delay, others at once; a zero delay
// removes it.
func TestDelaySlowsMatchingRequests(t *testing.T) {
	e := setup(t)
	const d = time.Second
	e.s.Delay("GET", "/repos/*/*/contents/**", d)
	timed := func(fn func() error) time.Duration {
		t.Helper()
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	readFile := func() error {
		_, _, _, err := e.client.Repositories.GetContents(e.ctx, owner, repoName, "deploy/app.yaml", nil)
		return err
	}
	readRepo := func() error { _, _, err := e.client.Repositories.Get(e.ctx, owner, repoName); return err }
	if got := timed(readFile); got < d {
		t.Errorf("a delayed read took %v, want at least %v", got, d)
	}
	if got := timed(readRepo); got >= d {
		t.Errorf("a read outside the pattern took %v; it is not delayed", got)
	}
	e.s.Delay("GET", "/repos/*/*/contents/**", 0)
	if got := timed(readFile); got >= d {
		t.Errorf("after removing the delay a read took %v", got)
	}
}
