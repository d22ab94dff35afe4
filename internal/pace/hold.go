package pace

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tend-app/tend/reconcilers"
)

// ErrHeld is wrapped in the error of a request that was not sent because
// GitHub asked tend to wait (Retry-After, or the primary limit spent until
// its reset).
var ErrHeld = errors.New("GitHub asked to wait before the next request of the installation")

// noHeaderWait is how long to stop after a 429 that says nothing: GitHub
// asks for at least a minute.
const noHeaderWait = time.Minute

// maxHold bounds a hold, whatever a header says.
const maxHold = time.Hour

// held returns until when the installation must not send, if it must wait.
func (c *Creator) held(installationID int64, now time.Time) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.holds[installationID]
	if !ok || !now.Before(until) {
		return 0, false
	}
	return until.Sub(now), true
}

// observe holds the installation's requests when a response asks to wait:
// a 403 or 429 with Retry-After (a secondary limit), a response saying the
// primary limit is spent (x-ratelimit-remaining: 0) until its reset, or a
// bare 429. Every request of the installation in this process then waits,
// not only the run that got the answer: no request reaches GitHub inside
// the window it asked for.
func (c *Creator) observe(installationID int64, resp *http.Response, now time.Time) {
	wait, ok := askedWait(resp, now)
	if !ok {
		return
	}
	wait = min(wait, maxHold)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holds == nil {
		c.holds = map[int64]time.Time{}
	}
	if until := now.Add(wait); until.After(c.holds[installationID]) {
		c.holds[installationID] = until
	}
}

// askedWait reads how long a response asks the client to wait.
func askedWait(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	limited := resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests
	if ra := resp.Header.Get("Retry-After"); ra != "" && limited {
		if secs, err := strconv.Atoi(ra); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second, true
		}
		if at, err := http.ParseTime(ra); err == nil {
			return at.Sub(now), at.After(now)
		}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			if at := time.Unix(reset, 0).Add(time.Second); at.After(now) {
				return at.Sub(now), true
			}
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return noHeaderWait, true
	}
	return 0, false
}

// heldError is the error of a request not sent during a hold.
func heldError(r *http.Request, installationID int64, wait time.Duration) error {
	return reconcilers.RetryAfter(fmt.Errorf("%s %s: installation %d: %w (%s left)", r.Method, r.URL.Path, installationID, ErrHeld, wait.Round(time.Second)), wait)
}
