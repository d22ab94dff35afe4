package fakegithub

import (
	"net/http"
	"strings"
	"sync"
)

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

// waitAtGates holds r at every closed gate it matches.
func (s *Server) waitAtGates(r *http.Request) {
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
