package testwait

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	calls := 0
	if !Until(time.Second, func() bool { calls++; return calls == 3 }) || calls != 3 {
		t.Errorf("Until stopped after %d calls, want 3", calls)
	}
	start := time.Now()
	calls = 0
	if Until(100*time.Millisecond, func() bool { calls++; return false }) {
		t.Errorf("Until reported a condition that never held")
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("Until gave up after %s, want about its 100ms timeout", d)
	}
	if calls < 2 {
		t.Errorf("Until polled %d times", calls)
	}
	if calls = 0; Until(0, func() bool { calls++; return true }) != true || calls != 1 {
		t.Errorf("a zero timeout still checks once")
	}
}

// fatalTB records a failure instead of ending the test.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msg = fmt.Sprintf(format, args...)
}

func TestForFailsWithTheReason(t *testing.T) {
	f := &fatalTB{TB: t}
	For(f, 30*time.Millisecond, func() bool { return false }, "key %s to drain", "acme/web")
	if !strings.Contains(f.msg, "timed out after 30ms waiting for key acme/web to drain") {
		t.Errorf("failure = %q", f.msg)
	}
	f.msg = ""
	For(f, time.Second, func() bool { return true }, "nothing")
	if f.msg != "" {
		t.Errorf("a condition that held failed the test: %q", f.msg)
	}
}
