package fakegithub

import (
	"encoding/json"
	"net/http"
	"time"
)

// handlers maps GitHub's operationIds to the fake's implementations. Routed
// and valid requests for any other operation answer 404 Not Found.
var handlers map[string]func(*Server, *call)

func init() {
	handlers = map[string]func(*Server, *call){
		// Meta.
		"meta/root":      (*Server).root,
		"rate-limit/get": (*Server).getRateLimit,

		// The App.
		"apps/get-authenticated":                     (*Server).getApp,
		"apps/list-installations":                    (*Server).listAppInstallations,
		"apps/get-installation":                      (*Server).getAppInstallation,
		"apps/create-installation-access-token":      (*Server).createInstallationToken,
		"apps/get-repo-installation":                 (*Server).getRepoInstallation,
		"apps/get-org-installation":                  (*Server).getAccountInstallation,
		"apps/get-user-installation":                 (*Server).getAccountInstallation,
		"apps/list-repos-accessible-to-installation": (*Server).listInstallationRepos,
		"apps/create-from-manifest":                  (*Server).convertManifest,

		// Repositories.
		"repos/get":                               (*Server).getRepo,
		"repos/get-content":                       (*Server).getContent,
		"repos/list-branches":                     (*Server).listBranches,
		"repos/get-branch":                        (*Server).getBranch,
		"repos/list-commits":                      (*Server).listCommits,
		"repos/get-commit":                        (*Server).getCommit,
		"repos/compare-commits-with-basehead":     (*Server).compare,
		"repos/compare-commits":                   (*Server).compare,
		"repos/get-collaborator-permission-level": (*Server).getCollaboratorPermission,
		"repos/list-releases":                     (*Server).listReleases,
		"repos/get-release-by-tag":                (*Server).getReleaseByTag,
		"repos/get-release":                       (*Server).getRelease,
		"repos/get-latest-release":                (*Server).getLatestRelease,

		// Git data.
		"git/get-blob":           (*Server).getBlob,
		"git/create-blob":        (*Server).createBlob,
		"git/get-tree":           (*Server).getTree,
		"git/create-tree":        (*Server).createTree,
		"git/get-commit":         (*Server).getGitCommit,
		"git/create-commit":      (*Server).createGitCommit,
		"git/get-ref":            (*Server).getRef,
		"git/list-matching-refs": (*Server).listMatchingRefs,
		"git/create-ref":         (*Server).createRef,
		"git/update-ref":         (*Server).updateRef,
		"git/delete-ref":         (*Server).deleteRef,

		// Pull requests.
		"pulls/create":          (*Server).createPull,
		"pulls/list":            (*Server).listPulls,
		"pulls/get":             (*Server).getPull,
		"pulls/update":          (*Server).updatePull,
		"pulls/list-commits":    (*Server).listPullCommits,
		"pulls/list-files":      (*Server).listPullFiles,
		"pulls/check-if-merged": (*Server).checkPullMerged,
		"pulls/merge":           (*Server).mergePull,

		// Issues, comments, labels, reactions.
		"issues/create":                      (*Server).createIssue,
		"issues/get":                         (*Server).getIssue,
		"issues/update":                      (*Server).updateIssue,
		"issues/list-for-repo":               (*Server).listIssues,
		"issues/list-comments":               (*Server).listIssueComments,
		"issues/list-comments-for-repo":      (*Server).listRepoComments,
		"issues/create-comment":              (*Server).createIssueComment,
		"issues/get-comment":                 (*Server).getIssueComment,
		"issues/update-comment":              (*Server).updateIssueComment,
		"issues/delete-comment":              (*Server).deleteIssueComment,
		"issues/list-labels-on-issue":        (*Server).listIssueLabels,
		"issues/add-labels":                  (*Server).addIssueLabels,
		"issues/set-labels":                  (*Server).setIssueLabels,
		"issues/remove-label":                (*Server).removeIssueLabel,
		"issues/remove-all-labels":           (*Server).removeAllIssueLabels,
		"issues/list-labels-for-repo":        (*Server).listRepoLabels,
		"issues/create-label":                (*Server).createRepoLabel,
		"issues/get-label":                   (*Server).getRepoLabel,
		"reactions/create-for-issue-comment": (*Server).createCommentReaction,
		"reactions/list-for-issue-comment":   (*Server).listCommentReactions,
		"reactions/create-for-issue":         (*Server).createIssueReaction,
		"reactions/list-for-issue":           (*Server).listIssueReactions,

		// Checks.
		"checks/create":           (*Server).createCheckRun,
		"checks/update":           (*Server).updateCheckRun,
		"checks/get":              (*Server).getCheckRun,
		"checks/list-annotations": (*Server).listCheckRunAnnotations,
		"checks/list-for-ref":     (*Server).listCheckRunsForRef,

		// Other apps' reports: statuses, Actions job logs.
		"repos/create-commit-status":                 (*Server).createCommitStatus,
		"repos/get-combined-status-for-ref":          (*Server).getCombinedStatus,
		"actions/download-job-logs-for-workflow-run": (*Server).downloadJobLogs,

		// Reviews.
		"pulls/list-reviews":         (*Server).listReviews,
		"pulls/list-review-comments": (*Server).listReviewComments,
	}
}

func (s *Server) root(c *call) {
	c.json(http.StatusOK, map[string]any{
		"current_user_url": s.apiURL("user"),
		"repository_url":   s.apiURL("repos/{owner}/{repo}"),
		"rate_limit_url":   s.apiURL("rate_limit"),
	})
}

func (s *Server) getRateLimit(c *call) {
	limit := s.cfg.rateLimit
	if limit <= 0 {
		limit = 1_000_000
	}
	used, reset := 0, time.Now().Add(time.Hour)
	if rw := s.rates[c.rateKey()]; rw != nil && c.rateKey() != "" {
		used, reset = rw.used, rw.reset
	}
	core := map[string]any{"limit": limit, "used": used, "remaining": max(0, limit-used), "reset": reset.Unix()}
	c.json(http.StatusOK, map[string]any{
		"resources": map[string]any{"core": core},
		"rate":      core,
	})
}

func (s *Server) createIssue(c *call) {
	rp := c.repo()
	if rp == nil {
		return
	}
	var req struct {
		Title  json.RawMessage   `json:"title"`
		Body   string            `json:"body"`
		Labels []json.RawMessage `json:"labels"`
	}
	if !c.decode(&req) {
		return
	}
	var title string
	if json.Unmarshal(req.Title, &title) != nil {
		var n json.Number
		if json.Unmarshal(req.Title, &n) == nil {
			title = n.String()
		}
	}
	if title == "" {
		c.invalid(fieldError{Resource: "Issue", Field: "title", Code: "missing_field"})
		return
	}
	by := c.who()
	t := now()
	is := &issue{id: s.newID(), number: rp.nextNumber, title: title, body: req.Body, state: "open", user: by, createdAt: t, updatedAt: t}
	rp.nextNumber++
	for _, l := range labelArg(req.Labels) {
		is.labels = append(is.labels, s.labelFor(rp, l))
	}
	rp.issues[is.number] = is
	s.hook("issues", "opened", s.issueEvent(rp, is, by, nil))
	c.json(http.StatusCreated, s.issueJSON(rp, is))
}
