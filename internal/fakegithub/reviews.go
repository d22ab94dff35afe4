package fakegithub

import (
	"fmt"
	"net/http"
)

type review struct {
	id          int64
	repo        *repo
	pr          *issue
	user        *user
	state       string // APPROVED, CHANGES_REQUESTED, COMMENTED
	body        string
	commitID    string
	submittedAt string
}

type reviewComment struct {
	id       int64
	review   *review
	user     *user
	path     string
	line     int // 0: outdated (the line is gone from the diff)
	diffHunk string
	body     string
	at       string
}

// ReviewComment is one comment on a line of a pull request's diff.
type ReviewComment struct {
	Path     string
	Line     int // 0 makes an outdated comment (GitHub's line: null)
	DiffHunk string
	Body     string
}

// AddReview submits a review of a pull request as author: state is
// APPROVED, CHANGES_REQUESTED or COMMENTED. It fires pull_request_review
// "submitted" and one pull_request_review_comment "created" per comment,
// and returns the review's id and its comments' ids.
func (s *Server) AddReview(fullName string, number int, author, state, body string, comments ...ReviewComment) (int64, []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.mustRepo(fullName)
	is := rp.issues[number]
	if is == nil || is.pr == nil {
		panic(fmt.Sprintf("fakegithub: AddReview: no pull request %s#%d", fullName, number))
	}
	u := s.userLocked(author, "")
	is.updatedAt = now() // a review moves the pull request's updated_at, as on GitHub
	t := ts(is.updatedAt)
	rv := &review{id: s.newID(), repo: rp, pr: is, user: u, state: state, body: body, commitID: is.pr.headSHA, submittedAt: t}
	ci := s.ci()
	ci.reviews = append(ci.reviews, rv)
	var ids []int64
	var made []*reviewComment
	for _, in := range comments {
		cm := &reviewComment{id: s.newID(), review: rv, user: u, path: in.Path, line: in.Line, diffHunk: in.DiffHunk, body: in.Body, at: t}
		ci.comments = append(ci.comments, cm)
		ids = append(ids, cm.id)
		made = append(made, cm)
	}
	s.hook("pull_request_review", "submitted", s.prEvent(rp, is, u, map[string]any{"review": s.reviewJSON(rv)}))
	for _, cm := range made {
		s.hook("pull_request_review_comment", "created", s.prEvent(rp, is, u, map[string]any{"comment": s.reviewCommentJSON(cm)}))
	}
	return rv.id, ids
}

func (s *Server) reviewJSON(rv *review) map[string]any {
	fn := rv.repo.fullName()
	html := s.htmlURL("%s/pull/%d#pullrequestreview-%d", fn, rv.pr.number, rv.id)
	prURL := s.apiURL("repos/%s/pulls/%d", fn, rv.pr.number)
	return map[string]any{
		"id": rv.id, "node_id": nodeID("PRR", rv.id), "user": s.userJSON(rv.user), "body": rv.body, "state": rv.state,
		"html_url": html, "pull_request_url": prURL, "submitted_at": rv.submittedAt, "commit_id": rv.commitID,
		"author_association": s.association(rv.repo, rv.user),
		"_links":             map[string]any{"html": map[string]any{"href": html}, "pull_request": map[string]any{"href": prURL}},
	}
}

func (s *Server) reviewCommentJSON(cm *reviewComment) map[string]any {
	rv := cm.review
	fn := rv.repo.fullName()
	api := s.apiURL("repos/%s/pulls/comments/%d", fn, cm.id)
	html := s.htmlURL("%s/pull/%d#discussion_r%d", fn, rv.pr.number, cm.id)
	prURL := s.apiURL("repos/%s/pulls/%d", fn, rv.pr.number)
	var line, position any
	if cm.line > 0 {
		line, position = cm.line, cm.line
	}
	return map[string]any{
		"url": api, "id": cm.id, "node_id": nodeID("PRRC", cm.id), "pull_request_review_id": rv.id,
		"diff_hunk": cm.diffHunk, "path": cm.path, "position": position, "original_position": max(cm.line, 1),
		"line": line, "original_line": max(cm.line, 1), "side": "RIGHT", "commit_id": rv.commitID, "original_commit_id": rv.commitID,
		"user": s.userJSON(cm.user), "body": cm.body, "created_at": cm.at, "updated_at": cm.at, "html_url": html,
		"pull_request_url": prURL, "author_association": s.association(rv.repo, cm.user),
		"_links": map[string]any{"self": map[string]any{"href": api}, "html": map[string]any{"href": html}, "pull_request": map[string]any{"href": prURL}},
	}
}

func (s *Server) listReviews(c *call) {
	listOfPull(c, s.ci().reviews, func(rv *review) *issue { return rv.pr }, s.reviewJSON)
}

func (s *Server) listReviewComments(c *call) {
	listOfPull(c, s.ci().comments, func(cm *reviewComment) *issue { return cm.review.pr }, s.reviewCommentJSON)
}

// listOfPull answers one page of the items that belong to the pull
// request the call names.
func listOfPull[T any](c *call, all []T, pullOf func(T) *issue, render func(T) map[string]any) {
	rp := c.repo()
	if rp == nil {
		return
	}
	is := c.pull(rp)
	if is == nil {
		return
	}
	var list []T
	for _, x := range all {
		if pullOf(x) == is {
			list = append(list, x)
		}
	}
	out := []any{}
	for _, x := range paginate(c, list) {
		out = append(out, render(x))
	}
	c.json(http.StatusOK, out)
}
