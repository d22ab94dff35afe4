package main

import (
	"testing"
	"time"
)

// The storm of the benchmark, as a test: 10,000 deliveries touching 20
// paths within 10 s, each reconcile taking 200 ms, must cost at most two
// runs per path and lose none.
func TestStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 10,000 deliveries over 10 s")
	}
	res, err := runStorm(stormConfig{
		Deliveries: 10000, Paths: 20, Within: 10 * time.Second, Reconcile: 200 * time.Millisecond,
		Senders: 32, Timeout: 2 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.report())
	if res.acked != 10000 {
		t.Errorf("%d of 10000 deliveries acknowledged", res.acked)
	}
	if len(res.lost) > 0 {
		t.Errorf("events lost on %v", res.lost)
	}
	if len(res.runsPerPath) != 20 {
		t.Errorf("%d paths ran, want 20", len(res.runsPerPath))
	}
	if m := res.maxRuns(); m > 2 {
		t.Errorf("a path ran %d times, want at most 2: %v", m, res.runsPerPath)
	}
	if res.sendTime > 12*time.Second {
		t.Errorf("sending took %s: intake could not keep up with 1,000 deliveries/s", res.sendTime)
	}
}
