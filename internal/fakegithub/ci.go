package fakegithub

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// App is another GitHub App that reports checks on commits: GitHub
// Actions, or a CI service.
type App struct {
	ID   int64
	Slug string
}

// ActionsApp is GitHub Actions as it appears in check runs on github.com.
var ActionsApp = App{ID: 15368, Slug: "github-actions"}

// ciState holds what other apps and reviewers report on commits and pull
// requests: commit statuses, GitHub Actions job logs, reviews and review
// comments.
type ciState struct {
	statuses map[string][]*commitStatus // repo full name (lower) + "@" + sha, oldest first
	jobLogs  map[int64]string           // job id (= its check run id) → log
	reviews  []*review                  // oldest first
	comments []*reviewComment           // oldest first
}

type commitStatus struct {
	id          int64
	sha         string
	state       string // error, failure, pending, success
	context     string
	description string
	targetURL   string
	creator     *user
	createdAt   string
}

func (s *Server) ci() *ciState {
	if s.ciData == nil {
		s.ciData = &ciState{statuses: map[string][]*commitStatus{}, jobLogs: map[int64]string{}}
	}
	return s.ciData
}

// branchAt names a branch whose head is sha ("" when none), as GitHub's
// check_suite.head_branch does.
func (rp *repo) branchAt(sha string) any {
	for _, ref := range rp.sortedRefs() {
		if name, ok := strings.CutPrefix(ref, "refs/heads/"); ok && rp.refs[ref] == sha {
			return name
		}
	}
	return nil
}

func (s *Server) checkRunAppJSON(cr *checkRun) map[string]any {
	if cr.appID == s.cfg.appID {
		return s.appJSON()
	}
	owner := s.userLocked(cr.appSlug+"-owner", "Organization")
	return map[string]any{
		"id": cr.appID, "slug": cr.appSlug, "node_id": nodeID("A", cr.appID), "client_id": fmt.Sprintf("Iv1.fake%d", cr.appID),
		"owner": s.userJSON(owner), "name": cr.appSlug, "description": "", "external_url": "https://example.com/" + cr.appSlug,
		"html_url": s.htmlURL("apps/%s", cr.appSlug), "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
		"permissions": map[string]any{"checks": "write"}, "events": []any{},
	}
}

// AddForeignCheckRun records a completed check run of another app on sha
// and fires check_run "completed" and check_suite "completed", as GitHub
// does when a CI job finishes. For ActionsApp the check run's id is also
// the job's id (GET .../actions/jobs/{id}/logs; see SetJobLog). It returns
// the check run's id.
func (s *Server) AddForeignCheckRun(fullName, sha string, app App, name, conclusion string, out CheckRunOutput) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addForeignCheckRun(fullName, sha, app, name, conclusion, out, nil)
}

// AddActionsJob is AddForeignCheckRun for a GitHub Actions job whose log
// is readable from the moment its webhooks fire.
func (s *Server) AddActionsJob(fullName, sha, name, conclusion string, out CheckRunOutput, log string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addForeignCheckRun(fullName, sha, ActionsApp, name, conclusion, out, &log)
}

func (s *Server) addForeignCheckRun(fullName, sha string, app App, name, conclusion string, out CheckRunOutput, log *string) int64 {
	rp := s.mustRepo(fullName)
	if rp.st.commit(sha) == nil {
		panic(fmt.Sprintf("fakegithub: AddForeignCheckRun: no commit %s in %s", sha, fullName))
	}
	t := now()
	cr := &checkRun{
		id: s.newID(), repo: rp, name: name, headSHA: sha, status: checkRunStatusDone, conclusion: conclusion,
		startedAt: t, completedAt: t, output: out, appID: app.ID, appSlug: app.Slug,
	}
	cr.suiteID = s.suiteID(rp, sha, app.ID)
	if app == ActionsApp {
		cr.detailsURL = s.htmlURL("%s/actions/runs/%d/job/%d", rp.fullName(), cr.suiteID, cr.id)
	}
	s.checkRuns[cr.id] = cr
	if log != nil {
		s.ci().jobLogs[cr.id] = *log
	}
	sender := s.userLocked(app.Slug+"[bot]", "Bot")
	s.hook("check_run", "completed", s.checkRunEvent(cr, sender, nil))
	s.hook("check_suite", "completed", s.checkSuiteEvent(cr, sender))
	return cr.id
}

func (s *Server) checkSuiteEvent(cr *checkRun, sender *user) map[string]any {
	if s.installations[cr.repo.inst] == nil || !s.hooks.enabled() {
		return nil
	}
	conclusion := "success"
	for _, o := range s.sortedCheckRuns() {
		if o.suiteID == cr.suiteID && o.conclusion != "success" && o.conclusion != "neutral" && o.conclusion != "skipped" {
			conclusion = o.conclusion
		}
	}
	j := s.checkRunJSON(cr)
	suite := map[string]any{
		"id": cr.suiteID, "node_id": nodeID("CS", cr.suiteID), "head_branch": cr.repo.branchAt(cr.headSHA), "head_sha": cr.headSHA,
		"status": checkRunStatusDone, "conclusion": conclusion, "app": s.checkRunAppJSON(cr), "pull_requests": j["pull_requests"],
		"before": nil, "after": cr.headSHA, "latest_check_runs_count": 1,
		"url": s.apiURL("repos/%s/check-suites/%d", cr.repo.fullName(), cr.suiteID),
	}
	return s.repoPayload(cr.repo, sender, map[string]any{"check_suite": suite})
}

// SetJobLog sets the log of a GitHub Actions job (a check run of
// ActionsApp): GET .../actions/jobs/{id}/logs answers 302 to where it can
// be downloaded.
func (s *Server) SetJobLog(jobID int64, log string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ci().jobLogs[jobID] = log
}

// downloadJobLogs answers like GitHub: 302 to a short-lived URL outside
// the API (here /_fake/logs/{id}).
func (s *Server) downloadJobLogs(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	id, ok := c.intParam("job_id")
	if !ok {
		return
	}
	cr := s.checkRuns[id]
	if _, has := s.ci().jobLogs[id]; cr == nil || cr.repo != rp || !has {
		c.notFound()
		return
	}
	c.header.Set("Location", s.base+"_fake/logs/"+strconv.FormatInt(id, 10)+"?sig=fake")
	c.status = http.StatusFound
}

// serveLog answers the download URLs downloadJobLogs hands out. Like the
// real ones they need no token.
func (s *Server) serveLog(w http.ResponseWriter, r *http.Request, rest string) {
	id, err := strconv.ParseInt(rest, 10, 64)
	s.mu.Lock()
	log, ok := s.ci().jobLogs[id]
	s.mu.Unlock()
	if err != nil || !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(log))
}

// SetStatus records a commit status of another integration on sha, as a
// CI service does, and fires the "status" webhook.
func (s *Server) SetStatus(fullName, sha, context, state, description, targetURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.mustRepo(fullName)
	if rp.st.commit(sha) == nil {
		panic(fmt.Sprintf("fakegithub: SetStatus: no commit %s in %s", sha, fullName))
	}
	st := s.addStatus(rp, sha, s.userLocked("ci-service[bot]", "Bot"), context, state, description, targetURL)
	s.hook("status", "", s.statusEvent(rp, st))
}

func (s *Server) addStatus(rp *repo, sha string, by *user, context, state, description, targetURL string) *commitStatus {
	if context == "" {
		context = "default"
	}
	st := &commitStatus{id: s.newID(), sha: sha, state: state, context: context, description: description, targetURL: targetURL, creator: by, createdAt: ts(now())}
	key := strings.ToLower(rp.fullName()) + "@" + sha
	s.ci().statuses[key] = append(s.ci().statuses[key], st)
	return st
}

func (s *Server) statusJSON(rp *repo, st *commitStatus) map[string]any {
	return map[string]any{
		"url": s.apiURL("repos/%s/statuses/%s", rp.fullName(), st.sha), "avatar_url": nil, "id": st.id, "node_id": nodeID("SC", st.id),
		"state": st.state, "description": nilIfEmpty(st.description), "target_url": nilIfEmpty(st.targetURL), "context": st.context,
		"created_at": st.createdAt, "updated_at": st.createdAt, "creator": s.userJSON(st.creator),
	}
}

func (s *Server) statusEvent(rp *repo, st *commitStatus) map[string]any {
	var branches []any
	for _, ref := range rp.sortedRefs() {
		name, ok := strings.CutPrefix(ref, "refs/heads/")
		if ok && rp.st.ancestors(rp.refs[ref])[st.sha] && len(branches) < 10 {
			branches = append(branches, map[string]any{"name": name, "protected": false,
				"commit": map[string]any{"sha": rp.refs[ref], "url": s.apiURL("repos/%s/commits/%s", rp.fullName(), rp.refs[ref])}})
		}
	}
	if branches == nil {
		branches = []any{}
	}
	return s.repoPayload(rp, st.creator, map[string]any{
		"id": st.id, "sha": st.sha, "name": rp.fullName(), "target_url": nilIfEmpty(st.targetURL), "context": st.context,
		"description": nilIfEmpty(st.description), "state": st.state, "branches": branches,
		"commit":     map[string]any{"sha": st.sha, "url": s.apiURL("repos/%s/commits/%s", rp.fullName(), st.sha)},
		"created_at": st.createdAt, "updated_at": st.createdAt,
	})
}

func (s *Server) createCommitStatus(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	var req struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if !c.decode(&req) {
		return
	}
	sha := strings.ToLower(c.param("sha"))
	if rp.st.commit(sha) == nil {
		c.unprocessable("No commit found for SHA: " + c.param("sha"))
		return
	}
	st := s.addStatus(rp, sha, c.who(), req.Context, req.State, req.Description, req.TargetURL)
	s.hook("status", "", s.statusEvent(rp, st))
	c.json(http.StatusCreated, s.statusJSON(rp, st))
}

// latestStatuses returns the newest status per context on sha.
func (s *Server) latestStatuses(rp *repo, sha string) []*commitStatus {
	latest := map[string]*commitStatus{}
	for _, st := range s.ci().statuses[strings.ToLower(rp.fullName())+"@"+sha] {
		latest[st.context] = st
	}
	out := make([]*commitStatus, 0, len(latest))
	for _, st := range latest {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id > out[j].id })
	return out
}

// refCommit resolves the call's {ref} to a commit, answering 422 when it
// names none.
func (c *call) refCommit(rp *repo) (string, bool) {
	sha, ok := rp.resolveCommit(c.param("ref"))
	if !ok {
		c.unprocessable("No commit found for SHA: " + c.param("ref"))
	}
	return sha, ok
}

func (s *Server) getCombinedStatus(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	sha, ok := c.refCommit(rp)
	if !ok {
		return
	}
	all := s.latestStatuses(rp, sha)
	state := "success"
	if len(all) == 0 {
		state = "pending"
	}
	list := []any{}
	for _, st := range all {
		switch {
		case st.state == "error" || st.state == "failure":
			state = "failure"
		case st.state == "pending" && state == "success":
			state = "pending"
		}
	}
	for _, st := range paginate(c, all) {
		list = append(list, s.statusJSON(rp, st))
	}
	c.json(http.StatusOK, map[string]any{
		"state": state, "statuses": list, "sha": sha, "total_count": len(all), "repository": s.repoJSON(rp),
		"commit_url": s.apiURL("repos/%s/commits/%s", rp.fullName(), sha), "url": s.apiURL("repos/%s/commits/%s/status", rp.fullName(), sha),
	})
}
