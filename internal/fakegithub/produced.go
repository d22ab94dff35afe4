package fakegithub

import (
	"fmt"
	"sort"
)

// IssuedTokens lists every token the Server issued (installation and user
// tokens), so a test can check that none of them leaked into what the App
// wrote.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.tokens))
	for v := range s.tokens {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// RepoNames lists the full names of every repository.
func (s *Server) RepoNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.repos))
	for _, rp := range s.repos {
		out = append(out, rp.fullName())
	}
	sort.Strings(out)
	return out
}

// Text is one piece of text someone wrote to the Server, with where it is.
type Text struct {
	Where string // "acme/web PR #3 body", "acme/web check run 1001 text", ...
	Text  string
}

// Produced lists every text written to the Server's repositories: pull
// request titles and bodies, issue and PR comments, check run outputs and
// annotations, and the messages of commits on every branch.
func (s *Server) Produced() []Text {
	var out []Text
	add := func(where, text string) {
		if text != "" {
			out = append(out, Text{where, text})
		}
	}
	for _, repo := range s.RepoNames() {
		for _, pr := range s.PullRequests(repo) {
			add(fmt.Sprintf("%s PR #%d title", repo, pr.Number), pr.Title)
			add(fmt.Sprintf("%s PR #%d body", repo, pr.Number), pr.Body)
		}
		for _, is := range s.Issues(repo) {
			for _, c := range s.Comments(repo, is.Number) {
				add(fmt.Sprintf("%s #%d comment by %s", repo, is.Number, c.User), c.Body)
			}
		}
		for _, c := range s.CheckRuns(repo) {
			where := fmt.Sprintf("%s check run %d", repo, c.ID)
			add(where+" title", c.Output.Title)
			add(where+" summary", c.Output.Summary)
			add(where+" text", c.Output.Text)
			for _, a := range c.Output.Annotations {
				add(where+" annotation", a.Title+"\n"+a.Message+"\n"+a.RawDetails)
			}
		}
		for _, b := range s.Branches(repo) {
			for _, c := range s.CommitsOn(repo, b) {
				add(fmt.Sprintf("%s commit %s on %s", repo, c.SHA, b), c.Message)
			}
		}
	}
	return out
}
