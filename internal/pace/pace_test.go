package pace_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/pace"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/internal/testdb"
	"github.com/tend-app/tend/reconcilers"
)

// Reads pass; writes are booked; a write beyond the budget is not sent and
// fails with RetryAfter, through go-github's error wrapping, so the queue
// snoozes the key.
func TestWritesArePacedAndRequeued(t *testing.T) {
	gh := fakegithub.New(t)
	gh.AddInstallation(7, "acme")
	gh.AddRepoWithFiles(7, "acme/web", "main", map[string]string{"README.md": "hi\n"})
	base, err := gh.ClientCreator()
	if err != nil {
		t.Fatal(err)
	}
	st := testdb.Open(t, "sqlite", "")
	creator := &pace.Creator{ClientCreator: base, Booker: st, Pace: store.WritePace{
		Windows: []store.WriteWindow{{N: 2, Per: time.Hour}}, Gap: time.Millisecond, MaxWait: time.Second,
	}}
	client, err := creator.NewInstallationClient(7)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 5 {
		if _, _, err := client.Repositories.Get(ctx, "acme", "web"); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	label := func() error {
		_, _, err := client.Issues.CreateLabel(ctx, "acme", "web", &github.Label{Name: github.Ptr(time.Now().Format("150405.000000"))})
		return err
	}
	for i := range 2 {
		if err := label(); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	before := len(gh.Requests())
	err = label()
	d, ok := reconcilers.RetryAfterDelay(err)
	if !ok || d < 59*time.Minute || !errors.Is(err, pace.ErrBudgetSpent) {
		t.Fatalf("third write: %v (retry after %s, %v); want RetryAfter about an hour", err, d, ok)
	}
	if n := len(gh.Requests()) - before; n != 0 {
		t.Errorf("%d requests sent for the refused write, want 0", n)
	}
	for _, r := range gh.Requests() {
		if r.Method == http.MethodPost && r.Status >= 400 {
			t.Errorf("%s %s answered %d", r.Method, r.Path, r.Status)
		}
	}
}

func TestParseWindows(t *testing.T) {
	w, err := pace.ParseWindows("80/1m, 500/1h")
	if err != nil || len(w) != 2 || w[0] != (store.WriteWindow{N: 80, Per: time.Minute}) || w[1] != (store.WriteWindow{N: 500, Per: time.Hour}) {
		t.Errorf("got %v %v", w, err)
	}
	if w, err := pace.ParseWindows("off"); err != nil || w != nil {
		t.Errorf("off: %v %v", w, err)
	}
	for _, bad := range []string{"", "80", "x/1m", "0/1m", "80/0s", "80/soon", "80/1m,"} {
		if _, err := pace.ParseWindows(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// After GitHub asks to wait — a secondary limit with Retry-After, or the
// primary limit spent until its reset — no request of the installation is
// sent until the window ends; other installations are not held.
func TestHoldsWhileGitHubAsksToWait(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		headers map[string]string
		min     time.Duration
	}{
		{"secondary 403", 403, map[string]string{"Retry-After": "30"}, 29 * time.Second},
		{"secondary 429", 429, map[string]string{"Retry-After": "30"}, 29 * time.Second},
		{"bare 429", 429, nil, 59 * time.Second},
		{"primary", 403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(10*time.Minute).Unix(), 10)}, 9 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gh := fakegithub.New(t)
			gh.AddInstallation(7, "acme")
			gh.AddInstallation(8, "other")
			gh.AddRepoWithFiles(7, "acme/web", "main", nil)
			gh.AddRepoWithFiles(8, "other/web", "main", nil)
			base, err := gh.ClientCreator()
			if err != nil {
				t.Fatal(err)
			}
			creator := &pace.Creator{ClientCreator: base, Booker: testdb.Open(t, "sqlite", ""), Pace: pace.GitHub}
			client, _ := creator.NewInstallationClient(7)
			ctx := context.Background()
			gh.Fail("GET", "/repos/{owner}/{repo}", 1, tc.status, tc.headers)
			if _, _, err := client.Repositories.Get(ctx, "acme", "web"); err == nil {
				t.Fatal("the fault did not answer")
			}
			before := len(gh.Requests())
			other, _ := creator.NewInstallationClient(7) // another run's client
			_, _, err = other.Repositories.Get(ctx, "acme", "web")
			d, ok := reconcilers.RetryAfterDelay(err)
			if !ok || d < tc.min || !errors.Is(err, pace.ErrHeld) {
				t.Errorf("request during the window: %v (retry after %s); want held for at least %s", err, d, tc.min)
			}
			if n := len(gh.Requests()) - before; n != 0 {
				t.Errorf("%d requests sent during the window, want 0", n)
			}
			third, _ := creator.NewInstallationClient(8)
			if _, _, err := third.Repositories.Get(ctx, "other", "web"); err != nil {
				t.Errorf("another installation was held: %v", err)
			}
		})
	}
}
