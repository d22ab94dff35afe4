package fakegithub

import (
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"
)

// SecondaryLimits are GitHub's secondary rate limits on content-creating
// requests (every POST, PATCH, PUT and DELETE made with an installation
// token), per installation: at most PerMinute in any Minute and PerHour in
// any Hour. A request over a limit answers 403 with Retry-After and GitHub's
// secondary-limit message, and is not served. Minute and Hour default to the
// real durations; tests scale them down to run in seconds.
type SecondaryLimits struct {
	PerMinute int
	Minute    time.Duration
	PerHour   int
	Hour      time.Duration
}

// GitHubSecondaryLimits are GitHub's documented guidance: 80 content-creating
// requests a minute and 500 an hour.
var GitHubSecondaryLimits = SecondaryLimits{PerMinute: 80, Minute: time.Minute, PerHour: 500, Hour: time.Hour}

// WithSecondaryLimits enforces secondary limits on content-creating requests.
func WithSecondaryLimits(l SecondaryLimits) Option {
	return func(c *config) {
		if l.Minute <= 0 {
			l.Minute = time.Minute
		}
		if l.Hour <= 0 {
			l.Hour = time.Hour
		}
		c.secondary = &l
	}
}

// secondaryState is the writes seen per installation, and how many were
// refused.
type secondaryState struct {
	writes  map[int64][]time.Time
	refused int
}

// SecondaryLimited counts the requests refused for a secondary limit so far.
func (s *Server) SecondaryLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secondary.refused
}

// secondaryLimit charges a content-creating request to its installation,
// or refuses it when a window is full.
func (s *Server) secondaryLimit(c *call) bool {
	l := s.cfg.secondary
	if l == nil || c.inst == nil {
		return true
	}
	switch c.r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if s.secondary.writes == nil {
		s.secondary.writes = map[int64][]time.Time{}
	}
	// GitHub counts a request when it arrives, not when this fake's single
	// lock lets it through.
	now := c.start
	seen := s.secondary.writes[c.inst.id]
	for len(seen) > 0 && now.Sub(seen[0]) >= l.Hour {
		seen = seen[1:]
	}
	s.secondary.writes[c.inst.id] = seen
	var wait time.Duration
	if n := countSince(seen, now.Add(-l.Minute)); l.PerMinute > 0 && n >= l.PerMinute {
		wait = seen[len(seen)-n].Add(l.Minute).Sub(now)
	}
	if l.PerHour > 0 && len(seen) >= l.PerHour {
		wait = max(wait, seen[len(seen)-l.PerHour].Add(l.Hour).Sub(now))
	}
	if wait > 0 {
		s.secondary.refused++
		c.header.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		c.failWith(http.StatusForbidden, map[string]any{
			"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
			"status":            "403",
		})
		return false
	}
	i := sort.Search(len(seen), func(i int) bool { return seen[i].After(now) })
	s.secondary.writes[c.inst.id] = slices.Insert(seen, i, now)
	return true
}

// countSince counts the times (oldest first) after since.
func countSince(times []time.Time, since time.Time) int {
	n := 0
	for i := len(times) - 1; i >= 0 && times[i].After(since); i-- {
		n++
	}
	return n
}
