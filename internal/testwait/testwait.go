package testwait

import (
	"fmt"
	"testing"
	"time"
)

// Polling starts fast, for in-process conditions that hold within
// milliseconds, and backs off so that conditions checked through a child
// process or a database do not busy the machine.
const (
	firstInterval = 10 * time.Millisecond
	maxInterval   = 200 * time.Millisecond
)

// Until polls cond until it returns true, and reports whether it did
// within timeout. cond runs at least once.
func Until(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	interval := firstInterval
	for {
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(interval, left))
		interval = min(2*interval, maxInterval)
	}
}

// For polls cond until it returns true and fails t when it does not within
// timeout, saying what was awaited (msgf and args, formatted). Like t.Fatal
// it must be called from the test's goroutine.
func For(t testing.TB, timeout time.Duration, cond func() bool, msgf string, args ...any) {
	t.Helper()
	if !Until(timeout, cond) {
		t.Fatalf("timed out after %s waiting for %s", timeout, fmt.Sprintf(msgf, args...))
	}
}
