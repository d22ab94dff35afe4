package main

import (
	"testing"
	"time"
)

// The scale simulation, scaled down to seconds: 20 repositories × 10
// paths. Every path gets exactly one PR on the first resync; warm
// resyncs with nothing changed keep them and write nothing, and each
// costs at most one rate-limited request per path — the first one after
// the PRs opened included: a rule's listing of open PRs serves the keys it
// enqueues, and a PR nothing changed since tend opened it has no comments
// to read. Writes are paced under GitHub's secondary limits, which the
// fake enforces, with the windows scaled down (a "minute" of 1 s, an
// "hour" of 4 s): none is refused. The full organisation (1,000 × 10) is
// `go run ./internal/loadtest scale`; its figures are in BENCHMARKS.md.
func TestScale(t *testing.T) {
	res, err := runScale(scaleConfig{Repos: 20, Paths: 10, Images: 5, Workers: 8, Timeout: 3 * time.Minute, PaceMinute: time.Second, PaceHour: 4 * time.Second})
	if res != nil {
		t.Log("\n" + res.report())
	}
	if err != nil {
		t.Fatal(err)
	}
	paths := 20 * 10
	if res.prs != paths || res.dupes != 0 {
		t.Errorf("%d open PRs for %d paths, %d keys with more than one", res.prs, paths, res.dupes)
	}
	for _, p := range res.phases {
		if p.Refused != 0 {
			t.Errorf("%s: %d requests refused (403/429); writes are paced under the limits", p.Name, p.Refused)
		}
	}
	for _, warm := range res.phases[1:] {
		if warm.Writes != 0 {
			t.Errorf("%s: %d writes; nothing changed", warm.Name, warm.Writes)
		}
		if warm.Counted > paths {
			t.Errorf("%s made %d rate-limited requests for %d paths; the target is at most 1 per path: %s", warm.Name, warm.Counted, paths, byCount(warm.ByOp))
		}
	}
}
