package fakegithub

import (
	"net/http"
	"strings"
	"time"
)

// Hold says which part of a delayed request waits.
type Hold int

const (
	// HoldBefore holds the request before it is served: a write takes
	// effect only after the delay, whether or not its client still waits —
	// as when GitHub is slow to process it.
	HoldBefore Hold = iota
	// HoldAnswer serves the request at once and holds its answer: the
	// write has taken effect though the client may never learn it.
	HoldAnswer
)

// delay is an injected slow answer.
type delay struct {
	injection
	d    time.Duration
	hold Hold
}

// Delay makes the next `times` requests matching method and pathPattern
// (as in Fail; times < 0: until cleared with ClearFaults) take d longer,
// held as hold says. The request is served normally otherwise, and served
// even when its client has given up meanwhile. Delayed requests are logged
// with Held set.
func (s *Server) Delay(method, pathPattern string, times int, d time.Duration, hold Hold) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays = append(s.delays, &delay{injection: injection{method: strings.ToUpper(method), pattern: pathPattern, times: times}, d: d, hold: hold})
}

// takeDelay returns the delay the request matches, if any, and counts it.
func (s *Server) takeDelay(r *http.Request, escaped string) *delay {
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	template := ""
	if m, err := s.spec.find(method, escaped); err == nil {
		template = m.route.template
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, _ := takeInjection(&s.delays, r.Method, r.URL.Path, template)
	return d
}

// injection says which requests an injected fault or delay applies to, and
// how many more times.
type injection struct {
	method, pattern string
	times           int // < 0: forever
}

func (i *injection) target() *injection { return i }

// injected is a fault or a delay.
type injected interface{ target() *injection }

// takeInjection returns the first of list that matches the request and
// counts it, dropping it from list once used up.
func takeInjection[T injected](list *[]T, method, path, template string) (T, bool) {
	for i, x := range *list {
		in := x.target()
		if !injectionMatches(in.method, in.pattern, method, path, template) {
			continue
		}
		if in.times > 0 {
			in.times--
			if in.times == 0 {
				*list = append((*list)[:i:i], (*list)[i+1:]...)
			}
		}
		return x, true
	}
	var none T
	return none, false
}

// injectionMatches reports whether a request matches an injected fault's or
// delay's method and pattern: an OpenAPI template ("{" in it) is compared
// with the routed operation's, anything else is a glob over the path.
func injectionMatches(wantMethod, pattern, method, path, template string) bool {
	if wantMethod != "" && wantMethod != "*" && wantMethod != method {
		return false
	}
	if strings.Contains(pattern, "{") {
		return pattern == template
	}
	return globMatch(pattern, path)
}
