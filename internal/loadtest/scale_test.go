package main

import (
	"testing"
	"time"
)

// The scale simulation, scaled down to seconds: 20 repositories × 10
// paths. Every path gets exactly one PR on the first resync; warm
// resyncs with nothing changed keep them and write nothing, and once the
// cached PR lists have caught up with the new PRs (the second warm
// resync) cost at most one rate-limited request per path. The full organisation (1,000 ×
// 10) is `go run ./internal/loadtest scale`; its figures are in
// BENCHMARKS.md.
func TestScale(t *testing.T) {
	res, err := runScale(scaleConfig{Repos: 20, Paths: 10, Images: 5, Workers: 8, Timeout: 3 * time.Minute})
	if res != nil {
		t.Log("\n" + res.report())
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, warm := range res.phases[1:] {
		if warm.Writes != 0 {
			t.Errorf("%s: %d writes; nothing changed", warm.Name, warm.Writes)
		}
	}
	if warm, paths := res.phases[2], 20*10; warm.Counted > paths {
		t.Errorf("the warm resync made %d rate-limited requests for %d paths; the target is at most 1 per path", warm.Counted, paths)
	}
}
