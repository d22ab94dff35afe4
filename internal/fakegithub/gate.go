package fakegithub

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// delay slows matching requests down by a fixed time (see Delay).
type delay struct {
	method, pattern string
	d               time.Duration
}

// Delay makes every later request matching method ("" or "*": any) and a
// glob over the unescaped path wait d before it is served, so that a
// client's work takes a while (a slow GitHub) without holding it forever
// as a Gate does. A d of 0 removes the pattern's delay.
func (s *Server) Delay(method, pattern string, d time.Duration) {
	s.gatesMu.Lock()
	defer s.gatesMu.Unlock()
	method = strings.ToUpper(method)
	kept := s.delays[:0]
	for _, x := range s.delays {
		if x.method != method || x.pattern != pattern {
			kept = append(kept, x)
		}
	}
	s.delays = kept
	if d > 0 {
		s.delays = append(s.delays, delay{method: method, pattern: pattern, d: d})
	}
}

// delayFor is how long r waits before it is served.
func (s *Server) delayFor(r *http.Request) time.Duration {
	s.gatesMu.Lock()
	defer s.gatesMu.Unlock()
	var wait time.Duration
	for _, x := range s.delays {
		if (x.method == "" || x.method == "*" || x.method == r.Method) && globMatch(x.pattern, r.URL.Path) {
			wait = max(wait, x.d)
		}
	}
	return wait
}

// Gate holds matching requests before they are served, so a test can act
// while a client waits for GitHub — kill the client mid-request, say — and
// then let GitHub go on as if nothing happened: a held request is served
// when the gate opens, whether or not its client is still there.
type Gate struct {
	method, pattern string
	arrived         chan string
	open            chan struct{}
	once            sync.Once
}

// Gate starts holding requests matching method ("" or "*": any) and a glob
// over the unescaped path ("/repos/*/*/pulls"). Each held request's path is
// sent on Arrived. Open releases them and every later one; Close the gate
// (or Open it) before the test ends.
func (s *Server) Gate(method, pattern string) *Gate {
	g := &Gate{method: strings.ToUpper(method), pattern: pattern, arrived: make(chan string, 1000), open: make(chan struct{})}
	s.gatesMu.Lock()
	s.gates = append(s.gates, g)
	s.gatesMu.Unlock()
	return g
}

// Arrived receives the path of each request the gate holds.
func (g *Gate) Arrived() <-chan string { return g.arrived }

// Open lets held and later requests through and removes the gate.
func (g *Gate) Open() { g.once.Do(func() { close(g.open) }) }

// waitAtGates holds r at every closed gate it matches, after its delay.
func (s *Server) waitAtGates(r *http.Request) {
	if d := s.delayFor(r); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
	}
	s.gatesMu.Lock()
	var hold []*Gate
	kept := s.gates[:0]
	for _, g := range s.gates {
		select {
		case <-g.open:
			continue // opened: forget it
		default:
		}
		kept = append(kept, g)
		if (g.method == "" || g.method == "*" || g.method == r.Method) && globMatch(g.pattern, r.URL.Path) {
			hold = append(hold, g)
		}
	}
	s.gates = kept
	s.gatesMu.Unlock()
	for _, g := range hold {
		select {
		case g.arrived <- r.URL.Path:
		default:
		}
		<-g.open
	}
}
