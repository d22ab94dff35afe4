package pace

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/reconcilers"
)

// Booker books writes; *store.Store implements it.
type Booker interface {
	ReserveWrite(ctx context.Context, installationID int64, p store.WritePace) (store.WriteBooking, error)
	WriteDone(ctx context.Context, installationID int64, booked, done time.Time) error
}

// GitHub is GitHub's guidance for content-creating requests, with a short
// gap between writes (one at a time) and at most a few seconds of waiting
// inside a run.
var GitHub = store.WritePace{
	Windows: []store.WriteWindow{{N: 80, Per: time.Minute}, {N: 500, Per: time.Hour}},
	Gap:     100 * time.Millisecond,
	MaxWait: 5 * time.Second,
}

// ErrBudgetSpent is wrapped in the error of a write that was not made
// because the installation's write budget is spent for now.
var ErrBudgetSpent = errors.New("GitHub write budget of the installation is spent for now")

// Creator wraps a ClientCreator: its installation clients pace their
// writes (when Pace has windows) and hold every request while GitHub asked
// to wait (see observe).
type Creator struct {
	githubapp.ClientCreator
	Booker Booker
	Pace   store.WritePace

	mu    sync.Mutex
	turns map[int64]chan struct{}
	holds map[int64]time.Time // installation -> no request before
}

// NewInstallationClient returns the wrapped creator's client, whose writes
// are booked and serialised per installation.
func (c *Creator) NewInstallationClient(installationID int64) (*github.Client, error) {
	client, err := c.ClientCreator.NewInstallationClient(installationID)
	if err != nil {
		return nil, err
	}
	next := client.Client().Transport
	if next == nil {
		next = http.DefaultTransport
	}
	paced, err := client.Clone(github.WithTransport(&transport{next: next, c: c, installationID: installationID}))
	if err != nil {
		return nil, fmt.Errorf("pace the client of installation %d: %w", installationID, err)
	}
	return paced, nil
}

// acquire takes the installation's turn to write in this process, waiting
// at most the pace's MaxWait. release gives it back.
func (c *Creator) acquire(ctx context.Context, installationID int64) (release func(), err error) {
	c.mu.Lock()
	if c.turns == nil {
		c.turns = map[int64]chan struct{}{}
	}
	turn := c.turns[installationID]
	if turn == nil {
		turn = make(chan struct{}, 1)
		c.turns[installationID] = turn
	}
	c.mu.Unlock()
	timer := time.NewTimer(c.Pace.MaxWait)
	defer timer.Stop()
	select {
	case turn <- struct{}{}:
		return func() { <-turn }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return nil, reconcilers.RetryAfter(fmt.Errorf("installation %d: %w (its writes are queued)", installationID, ErrBudgetSpent), c.Pace.MaxWait)
	}
}

type transport struct {
	next           http.RoundTripper
	c              *Creator
	installationID int64
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if wait, held := t.c.held(t.installationID, time.Now()); held {
		closeBody(r)
		return nil, heldError(r, t.installationID, wait)
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions || len(t.c.Pace.Windows) == 0 {
		resp, err := t.next.RoundTrip(r)
		t.c.observe(t.installationID, resp, time.Now())
		return resp, err
	}
	// One write at a time per installation in this process, booked and
	// sent in turn, so each leaves when it was booked; across replicas the
	// gap between bookings keeps them apart.
	release, err := t.c.acquire(r.Context(), t.installationID)
	var booked time.Time
	if err == nil {
		defer release()
		booked, err = t.book(r)
	}
	if err == nil {
		// GitHub may have asked to wait while this write waited its turn.
		if wait, held := t.c.held(t.installationID, time.Now()); held {
			err = heldError(r, t.installationID, wait)
		}
	}
	if err != nil {
		closeBody(r)
		return nil, err
	}
	resp, err := t.next.RoundTrip(r)
	t.c.observe(t.installationID, resp, time.Now())
	if derr := t.c.Booker.WriteDone(context.WithoutCancel(r.Context()), t.installationID, booked, time.Now()); derr != nil {
		zerolog.Ctx(r.Context()).Warn().Err(derr).Msg("recording a paced write")
	}
	return resp, err
}

// closeBody closes a request's body: a RoundTripper does, also on error.
func closeBody(r *http.Request) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
}

// book waits for the request's booked time, or fails when it is too far.
func (t *transport) book(r *http.Request) (time.Time, error) {
	ctx := r.Context()
	b, err := t.c.Booker.ReserveWrite(ctx, t.installationID, t.c.Pace)
	if err != nil {
		return time.Time{}, err
	}
	if !b.OK {
		return time.Time{}, reconcilers.RetryAfter(fmt.Errorf("%s %s: %w (next write in %s)", r.Method, r.URL.Path, ErrBudgetSpent, b.Wait.Round(time.Second)), b.Wait)
	}
	if b.Wait <= 0 {
		return b.At, nil
	}
	timer := time.NewTimer(b.Wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	case <-timer.C:
		return b.At, nil
	}
}

// ParseWindows reads limits written as "80/1m,500/1h" (at most 80 writes
// a minute and 500 an hour). "off" means no limits (nil).
func ParseWindows(s string) ([]store.WriteWindow, error) {
	if strings.TrimSpace(s) == "off" {
		return nil, nil
	}
	var out []store.WriteWindow
	for _, part := range strings.Split(s, ",") {
		n, per, ok := strings.Cut(strings.TrimSpace(part), "/")
		count, err := strconv.Atoi(n)
		if !ok || err != nil || count < 1 {
			return nil, fmt.Errorf("write limit %q: want COUNT/DURATION, like 80/1m", part)
		}
		d, err := time.ParseDuration(per)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("write limit %q: want COUNT/DURATION, like 80/1m", part)
		}
		out = append(out, store.WriteWindow{N: count, Per: d})
	}
	return out, nil
}
