package fakegithub

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/testwait"
)

// A delayed write times its client out and still takes effect: at once
// with HoldAnswer, only after the delay with HoldBefore. Reads not matched
// are not delayed, and the log says which requests were held.
func TestDelayOutlastsTheClient(t *testing.T) {
	for _, hold := range []Hold{HoldAnswer, HoldBefore} {
		e := setup(t)
		const d = 2 * time.Second
		e.s.Delay("POST", "/repos/{owner}/{repo}/git/refs", 1, d, hold)
		mainSHA, _ := e.s.Branch(fullName, "main")
		ctx, cancel := context.WithTimeout(e.ctx, 700*time.Millisecond)
		_, _, err := e.client.Git.CreateRef(ctx, owner, repoName, github.CreateRef{Ref: "refs/heads/slow", SHA: mainSHA})
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("hold %d: the client got %v, want its deadline", hold, err)
		}
		_, exists := e.s.Branch(fullName, "slow")
		if want := hold == HoldAnswer; exists != want {
			t.Errorf("hold %d: branch exists %v when the client gave up, want %v", hold, exists, want)
		}
		testwait.For(t, 5*time.Second, func() bool { _, ok := e.s.Branch(fullName, "slow"); return ok }, "the held write to land")
		// The delay was used up: the next write is answered at once.
		start := time.Now()
		must[*github.Reference](t)(e.client.Git.CreateRef(e.ctx, owner, repoName, github.CreateRef{Ref: "refs/heads/fast", SHA: mainSHA}))
		if took := time.Since(start); took >= d {
			t.Errorf("hold %d: the second write took %s", hold, took)
		}
		held := 0
		for _, r := range e.s.Requests() {
			if r.Held > 0 {
				held++
				if r.Operation != "git/create-ref" || r.Held != d {
					t.Errorf("hold %d: held %+v", hold, r)
				}
			}
		}
		if held != 1 {
			t.Errorf("hold %d: %d requests held, want 1", hold, held)
		}
	}
}
