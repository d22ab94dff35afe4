package fakegithub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

type label struct {
	id          int64
	name        string
	color       string
	description string
}

type issue struct {
	id          int64
	number      int
	title       string
	body        string
	state       string // open, closed
	stateReason string
	user        *user
	labels      []*label
	comments    []*comment
	reactions   []*reaction
	createdAt   time.Time
	updatedAt   time.Time
	closedAt    time.Time
	closedBy    *user
	pr          *pull // nil for plain issues
}

type comment struct {
	id        int64
	issue     *issue
	user      *user
	body      string
	createdAt time.Time
	updatedAt time.Time
	reactions []*reaction
}

type reaction struct {
	id        int64
	user      *user
	content   string
	createdAt time.Time
}

// Issue describes an issue or pull request (they share numbers).
type Issue struct {
	Number        int
	IsPullRequest bool
	State         string // open, closed
	Title         string
	Body          string
	User          string
	Labels        []string
	Comments      []Comment
	Reactions     []Reaction
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Comment is an issue or pull request comment.
type Comment struct {
	ID        int64
	User      string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
	Reactions []Reaction
}

// Reaction is an emoji reaction ("+1", "eyes", "rocket", ...).
type Reaction struct {
	User    string
	Content string
}

func reactionsOut(rs []*reaction) []Reaction {
	var out []Reaction
	for _, r := range rs {
		out = append(out, Reaction{User: r.user.login, Content: r.content})
	}
	return out
}

func commentsOut(cs []*comment) []Comment {
	var out []Comment
	for _, cm := range cs {
		out = append(out, Comment{
			ID: cm.id, User: cm.user.login, Body: cm.body, CreatedAt: cm.createdAt, UpdatedAt: cm.updatedAt,
			Reactions: reactionsOut(cm.reactions),
		})
	}
	return out
}

func labelNames(ls []*label) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.name)
	}
	return out
}

func (rp *repo) sortedIssues() []*issue {
	out := make([]*issue, 0, len(rp.issues))
	for _, is := range rp.issues {
		out = append(out, is)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].number < out[j].number })
	return out
}

// labelFor returns the repository's label, creating it (GitHub creates
// labels added to issues).
func (s *Server) labelFor(rp *repo, name string) *label {
	key := strings.ToLower(name)
	if l := rp.labels[key]; l != nil {
		return l
	}
	l := &label{id: s.newID(), name: name, color: "ededed"}
	rp.labels[key] = l
	return l
}

func (s *Server) labelJSON(rp *repo, l *label) map[string]any {
	var desc any
	if l.description != "" {
		desc = l.description
	}
	return map[string]any{
		"id":          l.id,
		"node_id":     nodeID("LA", l.id),
		"url":         s.apiURL("repos/%s/labels/%s", rp.fullName(), strings.ReplaceAll(l.name, " ", "%20")),
		"name":        l.name,
		"color":       l.color,
		"default":     false,
		"description": desc,
	}
}

func (s *Server) labelsJSON(rp *repo, ls []*label) []any {
	out := []any{}
	for _, l := range ls {
		out = append(out, s.labelJSON(rp, l))
	}
	return out
}

func (s *Server) association(rp *repo, u *user) string {
	if u == nil || u.typ == "Bot" {
		return "NONE"
	}
	if u == rp.owner {
		return "OWNER"
	}
	if role := rp.perms[strings.ToLower(u.login)]; role != "" && role != "none" {
		return "COLLABORATOR"
	}
	return "NONE"
}

func reactionSummary(url string, rs []*reaction) map[string]any {
	counts := map[string]int{}
	for _, r := range rs {
		counts[r.content]++
	}
	out := map[string]any{"url": url, "total_count": len(rs)}
	for _, k := range reactionContents {
		out[k] = counts[k]
	}
	return out
}

var reactionContents = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

func (s *Server) issueJSON(rp *repo, is *issue) map[string]any {
	fn := rp.fullName()
	base := s.apiURL("repos/%s/issues/%d", fn, is.number)
	var stateReason any
	if is.stateReason != "" {
		stateReason = is.stateReason
	}
	out := map[string]any{
		"id":                 is.id,
		"node_id":            nodeID("I", is.id),
		"url":                base,
		"repository_url":     s.apiURL("repos/%s", fn),
		"labels_url":         base + "/labels{/name}",
		"comments_url":       base + "/comments",
		"events_url":         base + "/events",
		"html_url":           s.htmlURL("%s/issues/%d", fn, is.number),
		"number":             is.number,
		"state":              is.state,
		"state_reason":       stateReason,
		"title":              is.title,
		"body":               nilIfEmpty(is.body),
		"user":               s.userJSON(is.user),
		"labels":             s.labelsJSON(rp, is.labels),
		"assignee":           nil,
		"assignees":          []any{},
		"milestone":          nil,
		"locked":             false,
		"active_lock_reason": nil,
		"comments":           len(is.comments),
		"closed_at":          tsOrNil(is.closedAt),
		"created_at":         ts(is.createdAt),
		"updated_at":         ts(is.updatedAt),
		"closed_by":          s.userJSON(is.closedBy),
		"author_association": s.association(rp, is.user),
		"reactions":          reactionSummary(base+"/reactions", is.reactions),
	}
	if is.pr != nil {
		out["html_url"] = s.htmlURL("%s/pull/%d", fn, is.number)
		out["pull_request"] = map[string]any{
			"url":       s.apiURL("repos/%s/pulls/%d", fn, is.number),
			"html_url":  s.htmlURL("%s/pull/%d", fn, is.number),
			"diff_url":  s.htmlURL("%s/pull/%d.diff", fn, is.number),
			"patch_url": s.htmlURL("%s/pull/%d.patch", fn, is.number),
			"merged_at": tsOrNil(is.pr.mergedAt),
		}
		out["draft"] = is.pr.draft
	}
	return out
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) commentJSON(rp *repo, cm *comment) map[string]any {
	fn := rp.fullName()
	kind := "issues"
	if cm.issue.pr != nil {
		kind = "pull"
	}
	return map[string]any{
		"id":                 cm.id,
		"node_id":            nodeID("IC", cm.id),
		"url":                s.apiURL("repos/%s/issues/comments/%d", fn, cm.id),
		"html_url":           s.htmlURL("%s/%s/%d#issuecomment-%d", fn, kind, cm.issue.number, cm.id),
		"issue_url":          s.apiURL("repos/%s/issues/%d", fn, cm.issue.number),
		"body":               cm.body,
		"user":               s.userJSON(cm.user),
		"created_at":         ts(cm.createdAt),
		"updated_at":         ts(cm.updatedAt),
		"author_association": s.association(rp, cm.user),
		"performed_via_github_app": func() any {
			if cm.user == s.bot {
				return map[string]any{"id": s.cfg.appID, "slug": s.cfg.slug, "name": s.cfg.slug, "owner": s.userJSON(s.app)}
			}
			return nil
		}(),
		"reactions": reactionSummary(s.apiURL("repos/%s/issues/comments/%d/reactions", fn, cm.id), cm.reactions),
	}
}

func (s *Server) reactionJSON(r *reaction) map[string]any {
	return map[string]any{
		"id":         r.id,
		"node_id":    nodeID("REA", r.id),
		"user":       s.userJSON(r.user),
		"content":    r.content,
		"created_at": ts(r.createdAt),
	}
}

// State: issues.

// AddIssue opens an issue as a human (author) and returns its number;
// number 0 takes the next free one. It fires "issues" opened (and labeled).
func (s *Server) AddIssue(fullName string, number int, title, body, author string, labels []string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.mustRepo(fullName)
	if number <= 0 {
		number = rp.nextNumber
	}
	if rp.issues[number] != nil {
		panic(fmt.Sprintf("fakegithub: AddIssue: %s#%d exists", fullName, number))
	}
	if number >= rp.nextNumber {
		rp.nextNumber = number + 1
	}
	u := s.userLocked(author, "")
	t := now()
	is := &issue{id: s.newID(), number: number, title: title, body: body, state: "open", user: u, createdAt: t, updatedAt: t}
	for _, l := range labels {
		is.labels = append(is.labels, s.labelFor(rp, l))
	}
	rp.issues[number] = is
	s.hook("issues", "opened", s.issueEvent(rp, is, u, nil))
	for _, l := range is.labels {
		s.hook("issues", "labeled", s.issueEvent(rp, is, u, map[string]any{"label": s.labelJSON(rp, l)}))
	}
	return number
}

// AddComment comments on an issue or pull request as a human and returns
// the comment id; it fires "issue_comment" created.
func (s *Server) AddComment(fullName string, number int, author, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.mustRepo(fullName)
	is := rp.issues[number]
	if is == nil {
		panic(fmt.Sprintf("fakegithub: AddComment: no %s#%d", fullName, number))
	}
	return s.addComment(rp, is, s.userLocked(author, ""), body).id
}

func (s *Server) addComment(rp *repo, is *issue, u *user, body string) *comment {
	t := now()
	cm := &comment{id: s.newID(), issue: is, user: u, body: body, createdAt: t, updatedAt: t}
	is.comments = append(is.comments, cm)
	is.updatedAt = t
	s.comments[cm.id] = cm
	s.hook("issue_comment", "created", s.commentEvent(rp, cm, u, nil))
	return cm
}

// LabelIssue adds a label to an issue or pull request as a human; it fires
// "issues" (or "pull_request") labeled.
func (s *Server) LabelIssue(fullName string, number int, labelName, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.mustRepo(fullName)
	is := rp.issues[number]
	if is == nil {
		panic(fmt.Sprintf("fakegithub: LabelIssue: no %s#%d", fullName, number))
	}
	s.addLabels(rp, is, []string{labelName}, s.userLocked(by, ""))
}

// CloseIssue closes an issue or pull request (without merging) as a human.
func (s *Server) CloseIssue(fullName string, number int, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.mustRepo(fullName)
	if is := rp.issues[number]; is != nil && is.state == "open" {
		s.closeIssue(rp, is, s.userLocked(by, ""))
	}
}

// Issues lists a repository's issues and pull requests by number.
func (s *Server) Issues(fullName string) []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(fullName)]
	if rp == nil {
		return nil
	}
	var out []Issue
	for _, is := range rp.sortedIssues() {
		out = append(out, Issue{
			Number: is.number, IsPullRequest: is.pr != nil, State: is.state, Title: is.title, Body: is.body,
			User: is.user.login, Labels: labelNames(is.labels), Comments: commentsOut(is.comments),
			Reactions: reactionsOut(is.reactions), CreatedAt: is.createdAt, UpdatedAt: is.updatedAt,
		})
	}
	return out
}

// Comments lists the comments on an issue or pull request, oldest first.
func (s *Server) Comments(fullName string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(fullName)]
	if rp == nil || rp.issues[number] == nil {
		return nil
	}
	return commentsOut(rp.issues[number].comments)
}

// Reactions lists the reactions on an issue or pull request itself.
func (s *Server) Reactions(fullName string, number int) []Reaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(fullName)]
	if rp == nil || rp.issues[number] == nil {
		return nil
	}
	return reactionsOut(rp.issues[number].reactions)
}

func (s *Server) closeIssue(rp *repo, is *issue, by *user) {
	t := now()
	is.state = "closed"
	is.closedAt = t
	is.closedBy = by
	is.updatedAt = t
	if is.pr != nil {
		s.hook("pull_request", "closed", s.prEvent(rp, is, by, nil))
		return
	}
	if is.stateReason == "" {
		is.stateReason = "completed"
	}
	s.hook("issues", "closed", s.issueEvent(rp, is, by, nil))
}

func (s *Server) reopenIssue(rp *repo, is *issue, by *user) {
	is.state = "open"
	is.closedAt = time.Time{}
	is.closedBy = nil
	is.updatedAt = now()
	if is.pr != nil {
		s.hook("pull_request", "reopened", s.prEvent(rp, is, by, nil))
		return
	}
	is.stateReason = "reopened"
	s.hook("issues", "reopened", s.issueEvent(rp, is, by, nil))
}

func (s *Server) addLabels(rp *repo, is *issue, names []string, by *user) {
	for _, n := range names {
		l := s.labelFor(rp, n)
		has := false
		for _, x := range is.labels {
			if x == l {
				has = true
			}
		}
		if has {
			continue
		}
		is.labels = append(is.labels, l)
		is.updatedAt = now()
		s.labelHook(rp, is, l, "labeled", by)
	}
}

func (s *Server) removeLabel(rp *repo, is *issue, l *label, by *user) bool {
	for i, x := range is.labels {
		if x == l {
			is.labels = append(is.labels[:i:i], is.labels[i+1:]...)
			is.updatedAt = now()
			s.labelHook(rp, is, l, "unlabeled", by)
			return true
		}
	}
	return false
}

func (s *Server) labelHook(rp *repo, is *issue, l *label, action string, by *user) {
	extra := map[string]any{"label": s.labelJSON(rp, l)}
	if is.pr != nil {
		s.hook("pull_request", action, s.prEvent(rp, is, by, extra))
		return
	}
	s.hook("issues", action, s.issueEvent(rp, is, by, extra))
}

// Handlers: issues.

func (c *call) issue(rp *repo) *issue {
	n, err := strconv.Atoi(c.param("issue_number"))
	if err != nil {
		c.notFound()
		return nil
	}
	is := rp.issues[n]
	if is == nil && rp.deleted[n] {
		c.fail(http.StatusGone, "This issue was deleted")
		return nil
	}
	if is == nil {
		c.notFound()
		return nil
	}
	return is
}

func (s *Server) getIssue(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	if is := c.issue(rp); is != nil {
		c.json(http.StatusOK, s.issueJSON(rp, is))
	}
}

func (s *Server) listIssues(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	state := c.query("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if v := c.query("labels"); v != "" {
		for _, l := range strings.Split(v, ",") {
			if l = strings.TrimSpace(l); l != "" {
				want = append(want, strings.ToLower(l))
			}
		}
	}
	creator := c.query("creator")
	var since time.Time
	if v := c.query("since"); v != "" {
		since, _ = parseSignatureTime(v)
	}
	var list []*issue
	for _, is := range rp.sortedIssues() {
		if state != "all" && is.state != state {
			continue
		}
		if creator != "" && !strings.EqualFold(is.user.login, creator) {
			continue
		}
		if !since.IsZero() && is.updatedAt.Before(since) {
			continue
		}
		ok := true
		for _, w := range want {
			found := false
			for _, l := range is.labels {
				if strings.ToLower(l.name) == w {
					found = true
				}
			}
			ok = ok && found
		}
		if ok {
			list = append(list, is)
		}
	}
	sortIssues(list, c.query("sort"), c.query("direction"))
	out := []any{}
	for _, is := range paginate(c, list) {
		out = append(out, s.issueJSON(rp, is))
	}
	c.json(http.StatusOK, out)
}

func sortIssues(list []*issue, by, direction string) {
	key := func(is *issue) int64 {
		switch by {
		case "updated":
			return is.updatedAt.UnixNano()*1000 + int64(is.number)
		case "comments":
			return int64(len(is.comments))*1_000_000 + int64(is.number)
		}
		return int64(is.number)
	}
	asc := direction == "asc"
	sort.SliceStable(list, func(i, j int) bool {
		if asc {
			return key(list[i]) < key(list[j])
		}
		return key(list[i]) > key(list[j])
	})
}

// labelArg reads a labels array whose items are names or {"name": ...}.
func labelArg(raw []json.RawMessage) []string {
	var out []string
	for _, r := range raw {
		var name string
		if json.Unmarshal(r, &name) == nil {
			out = append(out, name)
			continue
		}
		var obj struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(r, &obj) == nil && obj.Name != "" {
			out = append(out, obj.Name)
		}
	}
	return out
}

func (s *Server) updateIssue(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	is := c.issue(rp)
	if is == nil {
		return
	}
	var req struct {
		Title       json.RawMessage    `json:"title"`
		Body        *string            `json:"body"`
		State       string             `json:"state"`
		StateReason string             `json:"state_reason"`
		Labels      *[]json.RawMessage `json:"labels"`
	}
	if !c.decode(&req) {
		return
	}
	by := c.who()
	changes := map[string]any{}
	if len(req.Title) > 0 && string(req.Title) != "null" {
		var title string
		if json.Unmarshal(req.Title, &title) != nil {
			var n json.Number
			if json.Unmarshal(req.Title, &n) == nil {
				title = n.String()
			}
		}
		if title != is.title {
			changes["title"] = map[string]any{"from": is.title}
			is.title = title
		}
	}
	if req.Body != nil && *req.Body != is.body {
		changes["body"] = map[string]any{"from": is.body}
		is.body = *req.Body
	}
	if len(changes) > 0 {
		is.updatedAt = now()
		if is.pr != nil {
			s.hook("pull_request", "edited", s.prEvent(rp, is, by, map[string]any{"changes": changes}))
		} else {
			s.hook("issues", "edited", s.issueEvent(rp, is, by, map[string]any{"changes": changes}))
		}
	}
	if req.Labels != nil {
		s.setLabels(rp, is, labelArg(*req.Labels), by)
	}
	if req.StateReason != "" && is.pr == nil {
		is.stateReason = req.StateReason
	}
	switch {
	case req.State == "closed" && is.state == "open":
		s.closeIssue(rp, is, by)
	case req.State == "open" && is.state == "closed":
		if is.pr != nil && is.pr.merged {
			c.unprocessable("Cannot reopen a merged pull request")
			return
		}
		s.reopenIssue(rp, is, by)
	}
	c.json(http.StatusOK, s.issueJSON(rp, is))
}

func (s *Server) setLabels(rp *repo, is *issue, names []string, by *user) {
	want := map[string]bool{}
	for _, n := range names {
		want[strings.ToLower(n)] = true
	}
	for _, l := range append([]*label(nil), is.labels...) {
		if !want[strings.ToLower(l.name)] {
			s.removeLabel(rp, is, l, by)
		}
	}
	s.addLabels(rp, is, names, by)
}

func (s *Server) listIssueLabels(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	if is := c.issue(rp); is != nil {
		c.json(http.StatusOK, s.labelsJSON(rp, paginate(c, is.labels)))
	}
}

func (s *Server) readLabelsBody(c *call) ([]string, bool) {
	var req struct {
		Labels []json.RawMessage `json:"labels"`
	}
	if !c.decode(&req) {
		return nil, false
	}
	return labelArg(req.Labels), true
}

func (s *Server) addIssueLabels(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	is := c.issue(rp)
	if is == nil {
		return
	}
	names, ok := s.readLabelsBody(c)
	if !ok {
		return
	}
	s.addLabels(rp, is, names, c.who())
	c.json(http.StatusOK, s.labelsJSON(rp, is.labels))
}

func (s *Server) setIssueLabels(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	is := c.issue(rp)
	if is == nil {
		return
	}
	names, ok := s.readLabelsBody(c)
	if !ok {
		return
	}
	s.setLabels(rp, is, names, c.who())
	c.json(http.StatusOK, s.labelsJSON(rp, is.labels))
}

func (s *Server) removeIssueLabel(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	is := c.issue(rp)
	if is == nil {
		return
	}
	l := rp.labels[strings.ToLower(c.param("name"))]
	if l == nil || !s.removeLabel(rp, is, l, c.who()) {
		c.fail(http.StatusNotFound, "Label does not exist")
		return
	}
	c.json(http.StatusOK, s.labelsJSON(rp, is.labels))
}

func (s *Server) removeAllIssueLabels(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	if is := c.issue(rp); is != nil {
		s.setLabels(rp, is, nil, c.who())
		c.status = http.StatusNoContent
	}
}

func (s *Server) listRepoLabels(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	var ls []*label
	for _, l := range rp.labels {
		ls = append(ls, l)
	}
	sort.Slice(ls, func(i, j int) bool { return strings.ToLower(ls[i].name) < strings.ToLower(ls[j].name) })
	c.json(http.StatusOK, s.labelsJSON(rp, paginate(c, ls)))
}

func (s *Server) getRepoLabel(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	l := rp.labels[strings.ToLower(c.param("name"))]
	if l == nil {
		c.notFound()
		return
	}
	c.json(http.StatusOK, s.labelJSON(rp, l))
}

func (s *Server) createRepoLabel(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	var req struct {
		Name        string `json:"name"`
		Color       string `json:"color"`
		Description string `json:"description"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Name == "" {
		c.invalid(fieldError{Resource: "Label", Field: "name", Code: "missing_field"})
		return
	}
	if rp.labels[strings.ToLower(req.Name)] != nil {
		c.invalid(fieldError{Resource: "Label", Field: "name", Code: "already_exists"})
		return
	}
	l := s.labelFor(rp, req.Name)
	if req.Color != "" {
		l.color = strings.TrimPrefix(req.Color, "#")
	}
	l.description = req.Description
	c.json(http.StatusCreated, s.labelJSON(rp, l))
}

// Handlers: comments.

func (s *Server) listIssueComments(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	is := c.issue(rp)
	if is == nil {
		return
	}
	var since time.Time
	if v := c.query("since"); v != "" {
		since, _ = parseSignatureTime(v)
	}
	var list []*comment
	for _, cm := range is.comments {
		if since.IsZero() || !cm.updatedAt.Before(since) {
			list = append(list, cm)
		}
	}
	out := []any{}
	for _, cm := range paginate(c, list) {
		out = append(out, s.commentJSON(rp, cm))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) listRepoComments(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	var list []*comment
	for _, is := range rp.sortedIssues() {
		list = append(list, is.comments...)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].id < list[j].id })
	if c.query("direction") == "desc" {
		sort.Slice(list, func(i, j int) bool { return list[i].id > list[j].id })
	}
	out := []any{}
	for _, cm := range paginate(c, list) {
		out = append(out, s.commentJSON(rp, cm))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) createIssueComment(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	is := c.issue(rp)
	if is == nil {
		return
	}
	var req struct {
		Body *string `json:"body"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Body == nil || *req.Body == "" {
		c.invalid(fieldError{Resource: "IssueComment", Field: "body", Code: "missing_field"})
		return
	}
	if len([]rune(*req.Body)) > 65536 {
		c.invalid(fieldError{Resource: "IssueComment", Field: "body", Code: "custom", Message: "body is too long (maximum is 65536 characters)"})
		return
	}
	cm := s.addComment(rp, is, c.who(), *req.Body)
	c.json(http.StatusCreated, s.commentJSON(rp, cm))
}

// repoComment resolves {comment_id} within the repository.
func (c *call) repoComment(rp *repo) *comment {
	id, ok := c.intParam("comment_id")
	if !ok {
		return nil
	}
	cm := c.s.comments[id]
	if cm == nil || rp.issues[cm.issue.number] != cm.issue {
		c.notFound()
		return nil
	}
	return cm
}

func (s *Server) getIssueComment(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	if cm := c.repoComment(rp); cm != nil {
		c.json(http.StatusOK, s.commentJSON(rp, cm))
	}
}

func (s *Server) updateIssueComment(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	cm := c.repoComment(rp)
	if cm == nil {
		return
	}
	var req struct {
		Body string `json:"body"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Body == "" {
		c.invalid(fieldError{Resource: "IssueComment", Field: "body", Code: "missing_field"})
		return
	}
	if len([]rune(req.Body)) > 65536 {
		c.invalid(fieldError{Resource: "IssueComment", Field: "body", Code: "custom", Message: "body is too long (maximum is 65536 characters)"})
		return
	}
	old := cm.body
	cm.body = req.Body
	cm.updatedAt = now()
	s.hook("issue_comment", "edited", s.commentEvent(rp, cm, c.who(), map[string]any{"changes": map[string]any{"body": map[string]any{"from": old}}}))
	c.json(http.StatusOK, s.commentJSON(rp, cm))
}

func (s *Server) deleteIssueComment(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	cm := c.repoComment(rp)
	if cm == nil {
		return
	}
	is := cm.issue
	for i, x := range is.comments {
		if x == cm {
			is.comments = append(is.comments[:i:i], is.comments[i+1:]...)
			break
		}
	}
	delete(s.comments, cm.id)
	s.hook("issue_comment", "deleted", s.commentEvent(rp, cm, c.who(), nil))
	c.status = http.StatusNoContent
}

// Handlers: reactions.

func (s *Server) react(c *call, list *[]*reaction) {
	var req struct {
		Content string `json:"content"`
	}
	if !c.decode(&req) {
		return
	}
	u := c.who()
	for _, r := range *list {
		if r.user == u && r.content == req.Content {
			c.json(http.StatusOK, s.reactionJSON(r))
			return
		}
	}
	r := &reaction{id: s.newID(), user: u, content: req.Content, createdAt: now()}
	*list = append(*list, r)
	c.json(http.StatusCreated, s.reactionJSON(r))
}

func (s *Server) listReactions(c *call, list []*reaction) {
	content := c.query("content")
	var keep []*reaction
	for _, r := range list {
		if content == "" || r.content == content {
			keep = append(keep, r)
		}
	}
	out := []any{}
	for _, r := range paginate(c, keep) {
		out = append(out, s.reactionJSON(r))
	}
	c.json(http.StatusOK, out)
}

func (s *Server) createCommentReaction(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	if cm := c.repoComment(rp); cm != nil {
		s.react(c, &cm.reactions)
	}
}

func (s *Server) listCommentReactions(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	if cm := c.repoComment(rp); cm != nil {
		s.listReactions(c, cm.reactions)
	}
}

func (s *Server) createIssueReaction(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	if is := c.issue(rp); is != nil {
		s.react(c, &is.reactions)
	}
}

func (s *Server) listIssueReactions(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	if is := c.issue(rp); is != nil {
		s.listReactions(c, is.reactions)
	}
}
