package worktree

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/tend-app/tend/internal/clip"
)

// search answers the search tool: the lines of the current view that
// match a regular expression, within the run's bounds on results, bytes
// scanned and files fetched.
func (t *Tree) search(ctx context.Context, a args) (result, error) {
	pat, err := a.required("pattern", maxPatternBytes)
	if err != nil {
		return result{}, err
	}
	res := result{target: pat}
	if pat == "" {
		return res, errors.New("pattern must not be empty")
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return res, fmt.Errorf("pattern is not a valid Go (RE2) regular expression: %w", err)
	}
	g, hasGlob, err := a.glob("")
	if err != nil {
		return res, err
	}
	if hasGlob {
		res.target = g + " " + pat
	}
	s := &searchState{re: re, limit: t.pol.MaxSearchResults}
	for _, q := range t.view() {
		if hasGlob {
			if ok, _ := doublestar.Match(g, q); !ok {
				continue
			}
		}
		more, err := t.searchFile(ctx, s, q)
		if err != nil {
			return res, err
		}
		if !more {
			break
		}
	}
	out := s.output(int64(t.pol.MaxFileBytes))
	t.stats.BytesRead += int64(len(out))
	res.out = map[string]any{"output": out}
	res.detail = fmt.Sprintf("%d matches in %d files", s.matches, s.files)
	return res, nil
}

// searchState is the progress of one search call.
type searchState struct {
	re             *regexp.Regexp
	limit          int // of matches shown
	lines          []string
	matches, files int
	scanned        int64 // bytes
	fetches        int   // files this call read from the Source
	binary, large  int   // files skipped
	stopped        string
}

// searchFile searches the file at q. It reports false when the search
// must stop (a bound was reached; s.stopped says which).
func (t *Tree) searchFile(ctx context.Context, s *searchState, q string) (bool, error) {
	maxFile := int64(t.pol.MaxFileBytes)
	e, _ := t.lookup(q)
	e.Path = q
	if !e.regular() {
		return true, nil
	}
	if e.Size > maxFile {
		s.large++
		return true, nil
	}
	if t.needsFetch(e) {
		if s.fetches >= t.pol.MaxSearchFetches {
			s.stopped = fmt.Sprintf("stopped after reading %d files from the repository, the limit for one search; use a narrower glob", s.fetches)
			return false, nil
		}
		s.fetches++
	}
	if s.scanned+e.Size > int64(t.pol.MaxSearchBytes) {
		s.stopped = fmt.Sprintf("stopped after scanning %d bytes, the limit for one search; use a narrower glob", s.scanned)
		return false, nil
	}
	data, err := t.content(ctx, q, budget{limited: true})
	if err != nil {
		if IsRefused(err) {
			s.stopped = "stopped: " + err.Error()
			return false, nil
		}
		return false, err
	}
	if int64(len(data)) > maxFile {
		s.large++
		return true, nil
	}
	if isBinary(data) || !utf8.Valid(data) {
		s.binary++
		return true, nil
	}
	s.files++
	s.scanned += int64(len(data))
	return s.matchLines(q, string(data)), nil
}

// needsFetch reports whether reading e costs a request.
func (t *Tree) needsFetch(e Entry) bool {
	if _, ok := t.cur[e.Path]; ok {
		return false
	}
	key := e.SHA
	if key == "" {
		key = "path:" + e.Path
	}
	_, cached := t.blobs[key]
	return !cached
}

// matchLines adds the lines of the file q that match. It reports false
// when the limit of matches is reached.
func (s *searchState) matchLines(q, text string) bool {
	for n := 1; text != ""; n++ {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		line = strings.TrimSuffix(line, "\r")
		if !s.re.MatchString(line) {
			continue
		}
		s.matches++
		if s.matches > s.limit {
			s.stopped = fmt.Sprintf("showing the first %d matches; use a narrower pattern or glob to see others", s.limit)
			s.matches = s.limit
			return false
		}
		s.lines = append(s.lines, fmt.Sprintf("%s:%d: %s", q, n, clip.Text(line, maxLineBytes, "…")))
	}
	return true
}

// output is the search's answer: the matching lines, then what was
// skipped and why the search stopped.
func (s *searchState) output(maxFile int64) string {
	out := strings.Join(s.lines, "\n")
	if s.matches == 0 {
		out = "no matches"
	}
	var notes []string
	if s.stopped != "" {
		notes = append(notes, s.stopped)
	}
	if s.binary > 0 {
		notes = append(notes, fmt.Sprintf("skipped %d binary or non-UTF-8 files", s.binary))
	}
	if s.large > 0 {
		notes = append(notes, fmt.Sprintf("skipped %d files over %d bytes", s.large, maxFile))
	}
	if len(notes) > 0 {
		out += "\n(" + strings.Join(notes, "; ") + ")"
	}
	return out
}
