package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/testwait"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/fakegithub"
)

// A resync of an organisation whose every key opens a PR paces its writes
// under GitHub's secondary limits instead of tripping them: 300 keys in one
// installation (10 repositories x 30 files), a fake GitHub that refuses
// content-creating requests beyond 80 a "minute" and 500 an "hour", and no
// refusal. The clock is scaled down so the test runs in seconds: the
// minute is 1 s and the hour 4 s, in the fake and in tend
// (TEND_WRITE_LIMITS); the proportions are GitHub's.
func TestResyncPacesWritesUnderSecondaryLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 300 PRs")
	}
	reg := newRegistry(t)
	ref := reg.ref("acme/app", "1.0")
	digest := reg.push(t, "acme/app", "1.0", false)
	limits := fakegithub.SecondaryLimits{PerMinute: 80, Minute: time.Second, PerHour: 500, Hour: 4 * time.Second}
	start := time.Now()
	o := startOrg(t, reg, orgOptions{repos: 10, paths: 30, ref: ref,
		ghOpts: []fakegithub.Option{fakegithub.WithSecondaryLimits(limits)},
		env: map[string]string{
			"TEND_WRITE_LIMITS": "80/1s,500/4s",
			"TEND_WRITE_GAP":    "1ms",
			"TEND_WORKERS":      "16",
		},
	})
	testwait.For(t, 3*time.Minute, func() bool { return o.openPRCount() >= 300 }, "300 PRs")
	elapsed := time.Since(start)
	o.settle(t)

	if n := o.openPRCount(); n != 300 {
		t.Errorf("%d open PRs, want 300 (one per key)", n)
	}
	writes, refused := 0, 0
	for _, r := range o.gh.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.InstallationID != 0 {
			writes++
		}
		if r.Status == http.StatusForbidden || r.Status == http.StatusTooManyRequests {
			refused++
			if refused < 10 {
				t.Logf("refused: %s %s at %s", r.Method, r.Operation, r.Time.Format("15:04:05.000"))
			}
		}
	}
	if refused != 0 || o.gh.SecondaryLimited() != 0 {
		t.Errorf("the fake refused %d requests (%d for secondary limits); want none", refused, o.gh.SecondaryLimited())
	}
	branch := botpr.BranchName(mustKey(t, o.repos[0]+":pin-images:deploy/app000.yaml"))
	if got, _ := o.gh.File(o.repos[0], branch, "deploy/app000.yaml"); got != deployment(ref+"@"+digest) {
		t.Errorf("PR content: %s", got)
	}
	// The floor: writes beyond the first "hour" wait for the next ones.
	floor := time.Duration(writes/limits.PerHour) * limits.Hour
	requeued := strings.Count(o.logs.String(), "run must wait; requeued")
	t.Logf("300 PRs in %s: %d content-creating requests, %d refused, %d runs requeued to wait for the budget (pacing floor %s)", elapsed.Round(100*time.Millisecond), writes, refused, requeued, floor)
	if elapsed < floor {
		t.Errorf("%d writes in %s, faster than the limits allow (%s): the fake did not count them", writes, elapsed, floor)
	}
}
