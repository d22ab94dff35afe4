package fakegithub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// GitHub's limits on check runs.
const (
	maxOutputChars     = 65535
	maxAnnotations     = 50 // per request; PATCH again to add more
	maxActions         = 3
	maxActionLabel     = 20
	maxActionDesc      = 40
	maxActionIdent     = 20
	checkRunStatusDone = "completed"
)

type checkRun struct {
	id          int64
	repo        *repo
	name        string
	headSHA     string
	status      string
	conclusion  string
	externalID  string
	detailsURL  string
	startedAt   time.Time
	completedAt time.Time
	output      CheckRunOutput
	actions     []CheckRunAction
	appID       int64
	appSlug     string // for check runs of other apps (see AddForeignCheckRun)
	suiteID     int64
}

// CheckRun describes a check run.
type CheckRun struct {
	ID          int64
	Name        string
	HeadSHA     string
	Status      string // queued, in_progress, completed
	Conclusion  string
	ExternalID  string
	DetailsURL  string
	StartedAt   time.Time
	CompletedAt time.Time
	Output      CheckRunOutput
	Actions     []CheckRunAction
	AppID       int64
}

// CheckRunOutput is a check run's output; Annotations accumulate over
// requests.
type CheckRunOutput struct {
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
}

// Annotation is a check run annotation.
type Annotation struct {
	Path            string `json:"path"`
	StartLine       int    `json:"start_line"`
	EndLine         int    `json:"end_line"`
	StartColumn     int    `json:"start_column,omitempty"`
	EndColumn       int    `json:"end_column,omitempty"`
	AnnotationLevel string `json:"annotation_level"`
	Message         string `json:"message"`
	Title           string `json:"title,omitempty"`
	RawDetails      string `json:"raw_details,omitempty"`
}

// CheckRunAction is a button on a check run.
type CheckRunAction struct {
	Label       string `json:"label"`
	Description string `json:"description"`
	Identifier  string `json:"identifier"`
}

func (cr *checkRun) snapshot() CheckRun {
	out := CheckRun{
		ID: cr.id, Name: cr.name, HeadSHA: cr.headSHA, Status: cr.status, Conclusion: cr.conclusion,
		ExternalID: cr.externalID, DetailsURL: cr.detailsURL, StartedAt: cr.startedAt, CompletedAt: cr.completedAt,
		Output: cr.output, Actions: append([]CheckRunAction(nil), cr.actions...), AppID: cr.appID,
	}
	out.Output.Annotations = append([]Annotation(nil), cr.output.Annotations...)
	return out
}

// CheckRuns lists a repository's check runs by id.
func (s *Server) CheckRuns(fullName string) []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckRun
	for _, cr := range s.sortedCheckRuns() {
		if strings.EqualFold(cr.repo.fullName(), fullName) {
			out = append(out, cr.snapshot())
		}
	}
	return out
}

func (s *Server) sortedCheckRuns() []*checkRun {
	out := make([]*checkRun, 0, len(s.checkRuns))
	for _, cr := range s.checkRuns {
		out = append(out, cr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// RerequestCheckRun simulates a user clicking "Re-run" on a check run: a
// check_run "rerequested" webhook.
func (s *Server) RerequestCheckRun(fullName string, id int64, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cr := s.checkRuns[id]; cr != nil && strings.EqualFold(cr.repo.fullName(), fullName) {
		s.hook("check_run", "rerequested", s.checkRunEvent(cr, s.userLocked(by, ""), nil))
	}
}

// RequestCheckRunAction simulates a user clicking a check run's action
// button: a check_run "requested_action" webhook.
func (s *Server) RequestCheckRunAction(fullName string, id int64, identifier, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cr := s.checkRuns[id]; cr != nil && strings.EqualFold(cr.repo.fullName(), fullName) {
		s.hook("check_run", "requested_action", s.checkRunEvent(cr, s.userLocked(by, ""),
			map[string]any{"requested_action": map[string]any{"identifier": identifier}}))
	}
}

func (s *Server) appJSON() map[string]any {
	return map[string]any{
		"id":           s.cfg.appID,
		"slug":         s.cfg.slug,
		"node_id":      nodeID("A", s.cfg.appID),
		"client_id":    fmt.Sprintf("Iv1.fake%d", s.cfg.appID),
		"owner":        s.userJSON(s.app),
		"name":         s.cfg.slug,
		"description":  "A fake GitHub App",
		"external_url": "https://example.com/" + s.cfg.slug,
		"html_url":     s.htmlURL("apps/%s", s.cfg.slug),
		"created_at":   "2024-01-01T00:00:00Z",
		"updated_at":   "2024-01-01T00:00:00Z",
		"permissions":  appPermissions,
		"events":       appEvents,
	}
}

func (s *Server) checkRunJSON(cr *checkRun) map[string]any {
	rp := cr.repo
	fn := rp.fullName()
	var conclusion any
	if cr.conclusion != "" {
		conclusion = cr.conclusion
	}
	prs := []any{}
	for _, is := range rp.sortedIssues() {
		if is.pr != nil && is.state == "open" && is.pr.headSHA == cr.headSHA {
			baseSHA, _ := rp.branchSHA(is.pr.base)
			small := map[string]any{"id": rp.id, "url": s.apiURL("repos/%s", fn), "name": rp.name}
			prs = append(prs, map[string]any{
				"id":     is.id,
				"number": is.number,
				"url":    s.apiURL("repos/%s/pulls/%d", fn, is.number),
				"head":   map[string]any{"ref": is.pr.head, "sha": is.pr.headSHA, "repo": small},
				"base":   map[string]any{"ref": is.pr.base, "sha": baseSHA, "repo": small},
			})
		}
	}
	var title, summary, text any
	if cr.output.Title != "" {
		title = cr.output.Title
	}
	if cr.output.Summary != "" {
		summary = cr.output.Summary
	}
	if cr.output.Text != "" {
		text = cr.output.Text
	}
	actions := []any{}
	for _, a := range cr.actions {
		actions = append(actions, a)
	}
	var details, external any
	if cr.detailsURL != "" {
		details = cr.detailsURL
	}
	if cr.externalID != "" {
		external = cr.externalID
	}
	return map[string]any{
		"id":           cr.id,
		"head_sha":     cr.headSHA,
		"node_id":      nodeID("CR", cr.id),
		"external_id":  external,
		"url":          s.apiURL("repos/%s/check-runs/%d", fn, cr.id),
		"html_url":     s.htmlURL("%s/runs/%d", fn, cr.id),
		"details_url":  details,
		"status":       cr.status,
		"conclusion":   conclusion,
		"started_at":   tsOrNil(cr.startedAt),
		"completed_at": tsOrNil(cr.completedAt),
		"output": map[string]any{
			"title":             title,
			"summary":           summary,
			"text":              text,
			"annotations_count": len(cr.output.Annotations),
			"annotations_url":   s.apiURL("repos/%s/check-runs/%d/annotations", fn, cr.id),
		},
		"name":          cr.name,
		"check_suite":   map[string]any{"id": cr.suiteID},
		"app":           s.checkRunAppJSON(cr),
		"pull_requests": prs,
		"actions":       actions,
	}
}

// checkRunRequest is the body of POST and PATCH check-runs.
type checkRunRequest struct {
	Name        *string `json:"name"`
	HeadSHA     string  `json:"head_sha"`
	DetailsURL  *string `json:"details_url"`
	ExternalID  *string `json:"external_id"`
	Status      string  `json:"status"`
	Conclusion  string  `json:"conclusion"`
	StartedAt   string  `json:"started_at"`
	CompletedAt string  `json:"completed_at"`
	Output      *struct {
		Title       *string      `json:"title"`
		Summary     *string      `json:"summary"`
		Text        *string      `json:"text"`
		Annotations []Annotation `json:"annotations"`
	} `json:"output"`
	Actions *[]CheckRunAction `json:"actions"`
}

// checkLimits enforces GitHub's limits, answering 422 as GitHub does.
func (c *call) checkLimits(req *checkRunRequest) bool {
	bad := func(field, msg string) bool {
		c.invalid(fieldError{Resource: "CheckRun", Field: field, Code: "invalid", Message: msg})
		return false
	}
	if o := req.Output; o != nil {
		if o.Summary != nil && utf8.RuneCountInString(*o.Summary) > maxOutputChars {
			return bad("output.summary", "Only 65535 characters are allowed; 65536 were supplied.")
		}
		if o.Text != nil && utf8.RuneCountInString(*o.Text) > maxOutputChars {
			return bad("output.text", "Only 65535 characters are allowed; 65536 were supplied.")
		}
		if len(o.Annotations) > maxAnnotations {
			return bad("output.annotations", "Only 50 annotations are allowed per request.")
		}
	}
	if req.Actions != nil {
		if len(*req.Actions) > maxActions {
			return bad("actions", "Only 3 actions are allowed.")
		}
		for _, a := range *req.Actions {
			if utf8.RuneCountInString(a.Label) > maxActionLabel || a.Label == "" {
				return bad("actions.label", "label must be 1 to 20 characters")
			}
			if utf8.RuneCountInString(a.Description) > maxActionDesc || a.Description == "" {
				return bad("actions.description", "description must be 1 to 40 characters")
			}
			if utf8.RuneCountInString(a.Identifier) > maxActionIdent || a.Identifier == "" {
				return bad("actions.identifier", "identifier must be 1 to 20 characters")
			}
		}
	}
	return true
}

// apply sets the request's fields on a check run.
func (c *call) applyCheckRun(cr *checkRun, req *checkRunRequest) bool {
	if req.Name != nil {
		cr.name = *req.Name
	}
	if req.DetailsURL != nil {
		cr.detailsURL = *req.DetailsURL
	}
	if req.ExternalID != nil {
		cr.externalID = *req.ExternalID
	}
	parse := func(v string) (time.Time, bool) {
		t, err := parseSignatureTime(v)
		if err != nil {
			c.invalid(fieldError{Resource: "CheckRun", Field: "started_at", Code: "invalid"})
			return time.Time{}, false
		}
		return t.UTC(), true
	}
	if req.StartedAt != "" {
		t, ok := parse(req.StartedAt)
		if !ok {
			return false
		}
		cr.startedAt = t
	}
	if req.Status != "" {
		cr.status = req.Status
	}
	if req.Conclusion != "" {
		cr.conclusion = req.Conclusion
		cr.status = checkRunStatusDone
	}
	if req.CompletedAt != "" {
		t, ok := parse(req.CompletedAt)
		if !ok {
			return false
		}
		cr.completedAt = t
		cr.status = checkRunStatusDone
	}
	if cr.status == checkRunStatusDone {
		if cr.conclusion == "" {
			c.invalid(fieldError{Resource: "CheckRun", Field: "conclusion", Code: "missing_field",
				Message: "conclusion is required when status is completed"})
			return false
		}
		if cr.completedAt.IsZero() {
			cr.completedAt = now()
		}
	} else if cr.conclusion != "" {
		c.invalid(fieldError{Resource: "CheckRun", Field: "status", Code: "invalid", Message: "a check run with a conclusion is completed"})
		return false
	}
	if o := req.Output; o != nil {
		if o.Title != nil {
			cr.output.Title = *o.Title
		}
		if o.Summary != nil {
			cr.output.Summary = *o.Summary
		}
		if o.Text != nil {
			cr.output.Text = *o.Text
		}
		cr.output.Annotations = append(cr.output.Annotations, o.Annotations...)
	}
	if req.Actions != nil {
		cr.actions = append([]CheckRunAction(nil), (*req.Actions)...)
	}
	return true
}

func (s *Server) suiteID(rp *repo, headSHA string, appID int64) int64 {
	for _, cr := range s.checkRuns {
		if cr.repo == rp && cr.headSHA == headSHA && cr.appID == appID {
			return cr.suiteID
		}
	}
	return s.newID()
}

func (s *Server) createCheckRun(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	var req checkRunRequest
	if !c.decode(&req) || !c.checkLimits(&req) {
		return
	}
	sha := strings.ToLower(req.HeadSHA)
	if rp.st.commit(sha) == nil {
		c.invalid(fieldError{Resource: "CheckRun", Field: "head_sha", Code: "invalid", Message: "No commit found for SHA: " + req.HeadSHA})
		return
	}
	if req.Name == nil || *req.Name == "" {
		c.invalid(fieldError{Resource: "CheckRun", Field: "name", Code: "missing_field"})
		return
	}
	cr := &checkRun{id: s.newID(), repo: rp, headSHA: sha, status: "queued", appID: s.cfg.appID, startedAt: now()}
	if !c.applyCheckRun(cr, &req) {
		return
	}
	cr.suiteID = s.suiteID(rp, sha, cr.appID)
	s.checkRuns[cr.id] = cr
	s.hook("check_run", "created", s.checkRunEvent(cr, c.who(), nil))
	if cr.status == checkRunStatusDone {
		s.hook("check_run", "completed", s.checkRunEvent(cr, c.who(), nil))
	}
	c.json(http.StatusCreated, s.checkRunJSON(cr))
}

func (c *call) checkRun(rp *repo) *checkRun {
	id, ok := c.intParam("check_run_id")
	if !ok {
		return nil
	}
	cr := c.s.checkRuns[id]
	if cr == nil || cr.repo != rp {
		c.notFound()
		return nil
	}
	return cr
}

func (s *Server) updateCheckRun(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	cr := c.checkRun(rp)
	if cr == nil {
		return
	}
	var req checkRunRequest
	if !c.decode(&req) || !c.checkLimits(&req) {
		return
	}
	if req.Name != nil && *req.Name == "" {
		req.Name = nil // go-github sends "name" always; GitHub ignores an empty one
	}
	wasDone := cr.status == checkRunStatusDone
	cp := *cr
	cp.output.Annotations = append([]Annotation(nil), cr.output.Annotations...)
	if !c.applyCheckRun(&cp, &req) {
		return
	}
	*cr = cp
	if !wasDone && cr.status == checkRunStatusDone {
		s.hook("check_run", "completed", s.checkRunEvent(cr, c.who(), nil))
	}
	c.json(http.StatusOK, s.checkRunJSON(cr))
}

func (s *Server) getCheckRun(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	if cr := c.checkRun(rp); cr != nil {
		c.json(http.StatusOK, s.checkRunJSON(cr))
	}
}

func (s *Server) listCheckRunAnnotations(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	cr := c.checkRun(rp)
	if cr == nil {
		return
	}
	out := []any{}
	for _, a := range paginate(c, cr.output.Annotations) {
		raw, _ := json.Marshal(a)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		m["blob_href"] = s.htmlURL("%s/blob/%s/%s", rp.fullName(), cr.headSHA, a.Path)
		out = append(out, m)
	}
	c.json(http.StatusOK, out)
}

func (s *Server) listCheckRunsForRef(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	sha, ok := rp.resolveCommit(c.param("ref"))
	if !ok {
		c.unprocessable("No commit found for SHA: " + c.param("ref"))
		return
	}
	name, status, filter := c.query("check_name"), c.query("status"), c.query("filter")
	appID := c.query("app_id")
	var list []*checkRun
	latest := map[string]*checkRun{}
	for _, cr := range s.sortedCheckRuns() {
		if cr.repo != rp || cr.headSHA != sha {
			continue
		}
		if name != "" && cr.name != name {
			continue
		}
		if status != "" && cr.status != status {
			continue
		}
		if appID != "" && fmt.Sprint(cr.appID) != appID {
			continue
		}
		if filter == "all" {
			list = append(list, cr)
			continue
		}
		latest[cr.name] = cr // ids grow: the last one wins
	}
	if filter != "all" {
		for _, cr := range latest {
			list = append(list, cr)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].id > list[j].id })
	total := len(list)
	out := []any{}
	for _, cr := range paginate(c, list) {
		out = append(out, s.checkRunJSON(cr))
	}
	c.json(http.StatusOK, map[string]any{"total_count": total, "check_runs": out})
}

// Releases.

type release struct {
	id          int64
	repo        *repo
	tag         string
	name        string
	body        string
	target      string
	draft       bool
	prerelease  bool
	author      *user
	createdAt   time.Time
	publishedAt time.Time
}

// AddRelease publishes a release as the repository owner, creating the tag
// on the default branch's head if it doesn't exist. It fires "release"
// published and returns the release id.
func (s *Server) AddRelease(fullName, tag, name, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.mustRepo(fullName)
	target := rp.defaultBranch
	if _, ok := rp.refs["refs/tags/"+tag]; !ok {
		sha, _ := rp.branchSHA(rp.defaultBranch)
		s.setRef(rp, "refs/tags/"+tag, sha, rp.owner, false)
	}
	t := now()
	rel := &release{id: s.newID(), repo: rp, tag: tag, name: name, body: body, target: target, author: rp.owner, createdAt: t, publishedAt: t}
	rp.releases = append(rp.releases, rel)
	s.releases[rel.id] = rel
	s.hook("release", "published", s.repoPayload(rp, rp.owner, map[string]any{"release": s.releaseJSON(rel)}))
	return rel.id
}

func (s *Server) releaseJSON(rel *release) map[string]any {
	fn := rel.repo.fullName()
	api := s.apiURL("repos/%s/releases/%d", fn, rel.id)
	return map[string]any{
		"url":              api,
		"html_url":         s.htmlURL("%s/releases/tag/%s", fn, rel.tag),
		"assets_url":       api + "/assets",
		"upload_url":       s.apiURL("repos/%s/releases/%d/assets{?name,label}", fn, rel.id),
		"tarball_url":      s.apiURL("repos/%s/tarball/%s", fn, rel.tag),
		"zipball_url":      s.apiURL("repos/%s/zipball/%s", fn, rel.tag),
		"id":               rel.id,
		"node_id":          nodeID("RE", rel.id),
		"tag_name":         rel.tag,
		"target_commitish": rel.target,
		"name":             nilIfEmpty(rel.name),
		"body":             nilIfEmpty(rel.body),
		"draft":            rel.draft,
		"prerelease":       rel.prerelease,
		"immutable":        false,
		"created_at":       ts(rel.createdAt),
		"published_at":     tsOrNil(rel.publishedAt),
		"author":           s.userJSON(rel.author),
		"assets":           []any{},
	}
}

func (s *Server) getReleaseByTag(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	for i := len(rp.releases) - 1; i >= 0; i-- {
		if rp.releases[i].tag == c.param("tag") {
			c.json(http.StatusOK, s.releaseJSON(rp.releases[i]))
			return
		}
	}
	c.notFound()
}

func (s *Server) getRelease(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	id, ok := c.intParam("release_id")
	if !ok {
		return
	}
	if rel := s.releases[id]; rel != nil && rel.repo == rp {
		c.json(http.StatusOK, s.releaseJSON(rel))
		return
	}
	c.notFound()
}

func (s *Server) getLatestRelease(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	for i := len(rp.releases) - 1; i >= 0; i-- {
		if rel := rp.releases[i]; !rel.draft && !rel.prerelease {
			c.json(http.StatusOK, s.releaseJSON(rel))
			return
		}
	}
	c.notFound()
}

func (s *Server) listReleases(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	var list []*release
	for i := len(rp.releases) - 1; i >= 0; i-- {
		list = append(list, rp.releases[i])
	}
	out := []any{}
	for _, rel := range paginate(c, list) {
		out = append(out, s.releaseJSON(rel))
	}
	c.json(http.StatusOK, out)
}
