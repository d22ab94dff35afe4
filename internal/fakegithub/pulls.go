package fakegithub

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

type pull struct {
	head                string // branch names in the same repository
	base                string
	headSHA             string // the head's last known SHA (kept when the branch goes away)
	draft               bool
	maintainerCanModify bool
	merged              bool
	mergedAt            time.Time
	mergedBy            *user
	mergeCommit         string
	baseAtMerge         string // the base branch's SHA when merged
}

// prBase is the base the pull request compares against: the base branch
// now, or as it was when the pull request was merged.
func (rp *repo) prBase(pr *pull) string {
	if pr.merged && pr.baseAtMerge != "" {
		return pr.baseAtMerge
	}
	sha, _ := rp.branchSHA(pr.base)
	return sha
}

// PullRequest describes a pull request.
type PullRequest struct {
	Number         int
	State          string // open, closed
	Merged         bool
	MergeCommitSHA string
	MergedBy       string
	Title          string
	Body           string
	User           string // creator login; "<slug>[bot]" for the App
	HeadRef        string
	HeadSHA        string
	BaseRef        string
	BaseSHA        string
	Draft          bool
	Labels         []string
	Comments       []Comment
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ClosedAt       time.Time
}

// PullRequests lists a repository's pull requests by number.
func (s *Server) PullRequests(fullName string) []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(fullName)]
	if rp == nil {
		return nil
	}
	var out []PullRequest
	for _, is := range rp.sortedIssues() {
		if is.pr == nil {
			continue
		}
		pr := is.pr
		baseSHA := rp.prBase(pr)
		mergedBy := ""
		if pr.mergedBy != nil {
			mergedBy = pr.mergedBy.login
		}
		out = append(out, PullRequest{
			Number: is.number, State: is.state, Merged: pr.merged, MergeCommitSHA: pr.mergeCommit, MergedBy: mergedBy,
			Title: is.title, Body: is.body, User: is.user.login,
			HeadRef: pr.head, HeadSHA: pr.headSHA, BaseRef: pr.base, BaseSHA: baseSHA, Draft: pr.draft,
			Labels: labelNames(is.labels), Comments: commentsOut(is.comments),
			CreatedAt: is.createdAt, UpdatedAt: is.updatedAt, ClosedAt: is.closedAt,
		})
	}
	return out
}

// OpenPR opens a pull request as a human and returns its number.
func (s *Server) OpenPR(fullName, head, base, title, body, author string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(fullName)]
	if rp == nil {
		return 0, fmt.Errorf("fakegithub: no repository %q", fullName)
	}
	is, err := s.openPull(rp, head, base, title, body, false, s.userLocked(author, ""))
	if err != nil {
		return 0, err
	}
	return is.number, nil
}

// MergePR merges an open pull request like the web UI's merge button (a
// merge commit by GitHub's web-flow), moving the base branch; it fires a
// push and pull_request "closed" with merged=true.
func (s *Server) MergePR(fullName string, number int, by string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(fullName)]
	if rp == nil || rp.issues[number] == nil || rp.issues[number].pr == nil {
		return fmt.Errorf("fakegithub: no pull request %s#%d", fullName, number)
	}
	_, err := s.merge(rp, rp.issues[number], "merge", "", "", s.userLocked(by, ""))
	return err
}

// ClosePR closes a pull request without merging, as a human.
func (s *Server) ClosePR(fullName string, number int, by string) {
	s.CloseIssue(fullName, number, by)
}

// ReopenPR reopens a closed, unmerged pull request as a person would; it
// fires "pull_request" reopened.
func (s *Server) ReopenPR(fullName string, number int, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.mustRepo(fullName)
	if is := rp.issues[number]; is != nil && is.pr != nil && is.state == "closed" && !is.pr.merged {
		s.reopenIssue(rp, is, s.userLocked(by, ""))
	}
}

type prError struct {
	status int
	field  string
	msg    string
}

func (e *prError) Error() string { return e.msg }

func (s *Server) openPull(rp *repo, head, base, title, body string, draft bool, by *user) (*issue, error) {
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		if !strings.EqualFold(owner, rp.owner.login) {
			return nil, &prError{field: "head", msg: "head must be a branch of this repository (forks are not faked)"}
		}
		head = branch
	}
	headSHA, ok := rp.branchSHA(head)
	if !ok {
		return nil, &prError{field: "head", msg: "head invalid"}
	}
	baseSHA, ok := rp.branchSHA(base)
	if !ok {
		return nil, &prError{field: "base", msg: "base invalid"}
	}
	for _, is := range rp.issues {
		if is.pr != nil && is.state == "open" && is.pr.head == head && is.pr.base == base {
			return nil, &prError{msg: fmt.Sprintf("A pull request already exists for %s:%s.", rp.owner.login, head)}
		}
	}
	if len(rp.st.between(baseSHA, headSHA)) == 0 {
		return nil, &prError{msg: fmt.Sprintf("No commits between %s and %s", base, head)}
	}
	t := now()
	is := &issue{
		id: s.newID(), number: rp.nextNumber, title: title, body: body, state: "open", user: by,
		createdAt: t, updatedAt: t,
		pr: &pull{head: head, base: base, headSHA: headSHA, draft: draft, maintainerCanModify: true},
	}
	rp.nextNumber++
	rp.issues[is.number] = is
	s.hook("pull_request", "opened", s.prEvent(rp, is, by, nil))
	return is, nil
}

// mergeable reports whether an open pull request merges cleanly.
func (s *Server) mergeable(rp *repo, is *issue) bool {
	baseSHA, ok := rp.branchSHA(is.pr.base)
	if !ok {
		return false
	}
	mb := rp.st.mergeBase(baseSHA, is.pr.headSHA)
	mbTree := ""
	if mb != "" {
		mbTree = rp.st.commit(mb).tree
	}
	_, conflicts, err := rp.st.merge3(mbTree, rp.st.commit(baseSHA).tree, rp.st.commit(is.pr.headSHA).tree)
	return err == nil && len(conflicts) == 0
}

// merge merges a pull request with the given method and announces it.
func (s *Server) merge(rp *repo, is *issue, method, title, message string, by *user) (string, error) {
	pr := is.pr
	if is.state != "open" {
		return "", &prError{status: http.StatusMethodNotAllowed, msg: "Pull Request is not mergeable"}
	}
	baseSHA, ok := rp.branchSHA(pr.base)
	if !ok {
		return "", &prError{status: http.StatusMethodNotAllowed, msg: "Base branch does not exist"}
	}
	head := pr.headSHA
	mb := rp.st.mergeBase(baseSHA, head)
	mbTree := ""
	if mb != "" {
		mbTree = rp.st.commit(mb).tree
	}
	tree, conflicts, err := rp.st.merge3(mbTree, rp.st.commit(baseSHA).tree, rp.st.commit(head).tree)
	if err != nil || len(conflicts) > 0 {
		return "", &prError{status: http.StatusMethodNotAllowed, msg: "Pull Request is not mergeable"}
	}
	webflow := signature{Name: "GitHub", Email: "noreply@github.com", When: now()}
	author := signature{Name: by.login, Email: by.email(), When: now()}
	var sha string
	switch method {
	case "", "merge":
		if title == "" {
			title = fmt.Sprintf("Merge pull request #%d from %s/%s", is.number, rp.owner.login, pr.head)
		}
		if message == "" {
			message = is.title
		}
		sha = rp.st.putCommit(&commitObj{
			tree: tree, parents: []string{baseSHA, head}, author: author, committer: webflow,
			message: title + "\n\n" + message, verified: true,
		})
	case "squash":
		if title == "" {
			title = fmt.Sprintf("%s (#%d)", is.title, is.number)
		}
		if message == "" {
			var lines []string
			for _, c := range rp.st.between(baseSHA, head) {
				lines = append(lines, "* "+rp.st.commit(c).message)
			}
			message = strings.Join(lines, "\n\n")
		}
		sha = rp.st.putCommit(&commitObj{
			tree: tree, parents: []string{baseSHA}, author: author, committer: webflow,
			message: strings.TrimSuffix(title+"\n\n"+message, "\n\n"), verified: true,
		})
	case "rebase":
		cur := baseSHA
		for _, c := range rp.st.between(baseSHA, head) {
			cm := rp.st.commit(c)
			if len(cm.parents) > 1 {
				return "", &prError{status: http.StatusMethodNotAllowed, msg: "This branch can't be rebased"}
			}
			parentTree := emptyTreeSHA
			if len(cm.parents) == 1 {
				parentTree = rp.st.commit(cm.parents[0]).tree
			}
			t, conflicts, err := rp.st.merge3(parentTree, rp.st.commit(cur).tree, cm.tree)
			if err != nil || len(conflicts) > 0 {
				return "", &prError{status: http.StatusMethodNotAllowed, msg: "This branch can't be rebased"}
			}
			cur = rp.st.putCommit(&commitObj{
				tree: t, parents: []string{cur}, author: cm.author, committer: webflow, message: cm.message, verified: true,
			})
		}
		sha = cur
	default:
		return "", &prError{status: http.StatusUnprocessableEntity, msg: "Invalid merge method"}
	}
	// Mark the pull request merged before the push so that nothing sees it
	// open with its commits on the base branch.
	t := now()
	pr.merged = true
	pr.mergedAt = t
	pr.mergedBy = by
	pr.mergeCommit = sha
	pr.baseAtMerge = baseSHA
	is.state = "closed"
	is.closedAt = t
	is.closedBy = by
	is.updatedAt = t
	s.setRef(rp, "refs/heads/"+pr.base, sha, by, false)
	s.hook("pull_request", "closed", s.prEvent(rp, is, by, nil))
	return sha, nil
}

func (s *Server) prBranchJSON(rp *repo, branch, sha string) map[string]any {
	return map[string]any{
		"label": rp.owner.login + ":" + branch,
		"ref":   branch,
		"sha":   sha,
		"user":  s.userJSON(rp.owner),
		"repo":  s.repoJSON(rp),
	}
}

// prJSON renders a pull request; full adds the fields only the single-PR
// endpoint has (mergeable, counts).
func (s *Server) prJSON(rp *repo, is *issue, full bool) map[string]any {
	pr := is.pr
	fn := rp.fullName()
	n := is.number
	api := s.apiURL("repos/%s/pulls/%d", fn, n)
	issueURL := s.apiURL("repos/%s/issues/%d", fn, n)
	baseSHA := rp.prBase(pr)
	var mergeCommit any
	if pr.mergeCommit != "" {
		mergeCommit = pr.mergeCommit
	}
	out := map[string]any{
		"url":                 api,
		"id":                  is.id,
		"node_id":             nodeID("PR", is.id),
		"html_url":            s.htmlURL("%s/pull/%d", fn, n),
		"diff_url":            s.htmlURL("%s/pull/%d.diff", fn, n),
		"patch_url":           s.htmlURL("%s/pull/%d.patch", fn, n),
		"issue_url":           issueURL,
		"commits_url":         api + "/commits",
		"review_comments_url": api + "/comments",
		"review_comment_url":  s.apiURL("repos/%s/pulls/comments{/number}", fn),
		"comments_url":        issueURL + "/comments",
		"statuses_url":        s.apiURL("repos/%s/statuses/%s", fn, pr.headSHA),
		"number":              n,
		"state":               is.state,
		"locked":              false,
		"title":               is.title,
		"user":                s.userJSON(is.user),
		"body":                nilIfEmpty(is.body),
		"labels":              s.labelsJSON(rp, is.labels),
		"milestone":           nil,
		"active_lock_reason":  nil,
		"created_at":          ts(is.createdAt),
		"updated_at":          ts(is.updatedAt),
		"closed_at":           tsOrNil(is.closedAt),
		"merged_at":           tsOrNil(pr.mergedAt),
		"merge_commit_sha":    mergeCommit,
		"assignee":            nil,
		"assignees":           []any{},
		"requested_reviewers": []any{},
		"requested_teams":     []any{},
		"head":                s.prBranchJSON(rp, pr.head, pr.headSHA),
		"base":                s.prBranchJSON(rp, pr.base, baseSHA),
		"author_association":  s.association(rp, is.user),
		"auto_merge":          nil,
		"draft":               pr.draft,
		"_links": map[string]any{
			"self":            map[string]any{"href": api},
			"html":            map[string]any{"href": s.htmlURL("%s/pull/%d", fn, n)},
			"issue":           map[string]any{"href": issueURL},
			"comments":        map[string]any{"href": issueURL + "/comments"},
			"review_comments": map[string]any{"href": api + "/comments"},
			"review_comment":  map[string]any{"href": s.apiURL("repos/%s/pulls/comments{/number}", fn)},
			"commits":         map[string]any{"href": api + "/commits"},
			"statuses":        map[string]any{"href": s.apiURL("repos/%s/statuses/%s", fn, pr.headSHA)},
		},
	}
	if full {
		commits := rp.st.between(baseSHA, pr.headSHA)
		mb := rp.st.mergeBase(baseSHA, pr.headSHA)
		mbTree := ""
		if mb != "" {
			mbTree = rp.st.commit(mb).tree
		}
		changes := rp.st.diffTrees(mbTree, rp.st.commit(pr.headSHA).tree)
		adds, dels := 0, 0
		for _, ch := range changes {
			a, d := rp.st.lineStats(ch)
			adds += a
			dels += d
		}
		var mergeable any
		state := "unknown"
		if is.state == "open" {
			m := s.mergeable(rp, is)
			mergeable = m
			state = "clean"
			if !m {
				state = "dirty"
			}
		}
		out["merged"] = pr.merged
		out["mergeable"] = mergeable
		out["rebaseable"] = mergeable
		out["mergeable_state"] = state
		out["merged_by"] = s.userJSON(pr.mergedBy)
		out["comments"] = len(is.comments)
		out["review_comments"] = 0
		out["maintainer_can_modify"] = pr.maintainerCanModify
		out["commits"] = len(commits)
		out["additions"] = adds
		out["deletions"] = dels
		out["changed_files"] = len(changes)
	}
	return out
}

// Handlers: pull requests.

func (c *call) pull(rp *repo) *issue {
	n := atoi(c.param("pull_number"))
	is := rp.issues[n]
	if is == nil || is.pr == nil {
		c.notFound()
		return nil
	}
	return is
}

func (s *Server) answerPRError(c *call, err error) {
	var pe *prError
	if !errors.As(err, &pe) {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	if pe.status != 0 {
		c.fail(pe.status, pe.msg)
		return
	}
	if pe.field != "" {
		c.invalid(fieldError{Resource: "PullRequest", Field: pe.field, Code: "invalid", Message: pe.msg})
		return
	}
	c.invalid(fieldError{Resource: "PullRequest", Code: "custom", Message: pe.msg})
}

func (s *Server) createPull(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	var req struct {
		Title string `json:"title"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Body  string `json:"body"`
		Draft bool   `json:"draft"`
		Issue int    `json:"issue"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Issue != 0 {
		c.unprocessable("fakegithub: converting issues to pull requests is not faked")
		return
	}
	if req.Title == "" {
		c.invalid(fieldError{Resource: "PullRequest", Field: "title", Code: "missing_field"})
		return
	}
	is, err := s.openPull(rp, req.Head, req.Base, req.Title, req.Body, req.Draft, c.who())
	if err != nil {
		s.answerPRError(c, err)
		return
	}
	c.json(http.StatusCreated, s.prJSON(rp, is, true))
}

func (s *Server) listPulls(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	state := c.query("state")
	if state == "" {
		state = "open"
	}
	head := c.query("head")
	headOwner, headRef, headOK := strings.Cut(head, ":")
	base := c.query("base")
	var list []*issue
	for _, is := range rp.sortedIssues() {
		if is.pr == nil || (state != "all" && is.state != state) {
			continue
		}
		// GitHub only honours head in the "owner:branch" form.
		if headOK && (!strings.EqualFold(headOwner, rp.owner.login) || is.pr.head != headRef) {
			continue
		}
		if base != "" && is.pr.base != base {
			continue
		}
		list = append(list, is)
	}
	by, dir := c.query("sort"), c.query("direction")
	if dir == "" {
		dir = "desc"
		if by != "" && by != "created" {
			dir = "asc"
		}
	}
	switch by {
	case "updated":
		sort.SliceStable(list, func(i, j int) bool { return list[i].updatedAt.Before(list[j].updatedAt) })
	default:
		sort.SliceStable(list, func(i, j int) bool { return list[i].number < list[j].number })
	}
	if dir == "desc" {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	}
	out := []any{}
	for _, is := range paginate(c, list) {
		out = append(out, s.prJSON(rp, is, false))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) getPull(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	if is := c.pull(rp); is != nil {
		c.json(http.StatusOK, s.prJSON(rp, is, true))
	}
}

func (s *Server) updatePull(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	is := c.pull(rp)
	if is == nil {
		return
	}
	var req struct {
		Title               *string `json:"title"`
		Body                *string `json:"body"`
		State               string  `json:"state"`
		Base                string  `json:"base"`
		MaintainerCanModify *bool   `json:"maintainer_can_modify"`
	}
	if !c.decode(&req) {
		return
	}
	by := c.who()
	changes := map[string]any{}
	if req.Base != "" && req.Base != is.pr.base {
		if is.state != "open" {
			c.invalid(fieldError{Resource: "PullRequest", Field: "base", Code: "invalid", Message: "Cannot change the base branch of a closed pull request."})
			return
		}
		if _, ok := rp.branchSHA(req.Base); !ok {
			c.invalid(fieldError{Resource: "PullRequest", Field: "base", Code: "invalid"})
			return
		}
		oldBase, _ := rp.branchSHA(is.pr.base)
		changes["base"] = map[string]any{"ref": map[string]any{"from": is.pr.base}, "sha": map[string]any{"from": oldBase}}
		is.pr.base = req.Base
	}
	if req.Title != nil && *req.Title != is.title {
		changes["title"] = map[string]any{"from": is.title}
		is.title = *req.Title
	}
	if req.Body != nil && *req.Body != is.body {
		changes["body"] = map[string]any{"from": is.body}
		is.body = *req.Body
	}
	if req.MaintainerCanModify != nil {
		is.pr.maintainerCanModify = *req.MaintainerCanModify
	}
	if len(changes) > 0 {
		is.updatedAt = now()
		s.hook("pull_request", "edited", s.prEvent(rp, is, by, map[string]any{"changes": changes}))
	}
	switch {
	case req.State == "closed" && is.state == "open":
		s.closeIssue(rp, is, by)
	case req.State == "open" && is.state == "closed":
		if is.pr.merged {
			c.unprocessable("Cannot reopen a merged pull request")
			return
		}
		if _, ok := rp.branchSHA(is.pr.head); !ok {
			c.unprocessable("The head branch of this pull request has been deleted")
			return
		}
		s.reopenIssue(rp, is, by)
	}
	c.json(http.StatusOK, s.prJSON(rp, is, true))
}

func (s *Server) listPullCommits(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	is := c.pull(rp)
	if is == nil {
		return
	}
	baseSHA := rp.prBase(is.pr)
	commits := rp.st.between(baseSHA, is.pr.headSHA)
	if len(commits) > 250 {
		commits = commits[:250]
	}
	out := []any{}
	for _, sha := range paginate(c, commits) {
		out = append(out, s.commitJSON(rp, sha))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) listPullFiles(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	is := c.pull(rp)
	if is == nil {
		return
	}
	baseSHA := rp.prBase(is.pr)
	mb := rp.st.mergeBase(baseSHA, is.pr.headSHA)
	mbTree := ""
	if mb != "" {
		mbTree = rp.st.commit(mb).tree
	}
	changes := rp.st.diffTrees(mbTree, rp.st.commit(is.pr.headSHA).tree)
	if len(changes) > 3000 {
		changes = changes[:3000]
	}
	out := []any{}
	for _, ch := range paginate(c, changes) {
		out = append(out, s.fileJSON(rp, is.pr.headSHA, ch, true))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) checkPullMerged(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	if is := c.pull(rp); is != nil {
		if is.pr.merged {
			c.status = http.StatusNoContent
			return
		}
		c.notFound()
	}
}

func (s *Server) mergePull(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	is := c.pull(rp)
	if is == nil {
		return
	}
	var req struct {
		CommitTitle   string `json:"commit_title"`
		CommitMessage string `json:"commit_message"`
		SHA           string `json:"sha"`
		MergeMethod   string `json:"merge_method"`
	}
	if !c.decode(&req) {
		return
	}
	if req.SHA != "" && !strings.EqualFold(req.SHA, is.pr.headSHA) {
		c.fail(http.StatusConflict, "Head branch was modified. Review and try the merge again.")
		return
	}
	sha, err := s.merge(rp, is, req.MergeMethod, req.CommitTitle, req.CommitMessage, c.who())
	if err != nil {
		s.answerPRError(c, err)
		return
	}
	c.json(http.StatusOK, map[string]any{"sha": sha, "merged": true, "message": "Pull Request successfully merged"})
}
