package main

import (
	"testing"

	"github.com/tend-app/tend/internal/botpr"
)

// Checks, statuses, workflow runs and reviews from GitHub's own example
// payloads, moved onto a tend branch: each maps to the branch's key, and
// the same events elsewhere (tend's own checks, pending statuses, other
// branches, bots' reviews) map to none.
func TestCIAndReviewExamplesProduceKeys(t *testing.T) {
	w := startWorld(t, map[string]string{"TEND_WORKERS": "1"})
	const prKey = "codertocat/hello-world:readme:README.md"
	const branch = "tend/readme/README.md"
	state := botpr.FormatState(botpr.State{Key: prKey, Hash: "h"})
	onBranch := func(obj string) func(m map[string]any) {
		return func(m map[string]any) {
			o := m[obj].(map[string]any)
			o["head_branch"] = branch
			o["pull_requests"] = []any{}
		}
	}

	cr := func(conclusion string, appID int64) []byte {
		return withInstallation(t, example(t, "check_run", "completed", nil), 1, func(m map[string]any) {
			c := m["check_run"].(map[string]any)
			c["conclusion"] = conclusion
			c["app"].(map[string]any)["id"] = appID
			c["check_suite"].(map[string]any)["head_branch"] = branch
			c["pull_requests"] = []any{}
		})
	}
	wantKeys(t, "failing check run of another app", w.deliver(t, "check_run", cr("failure", 15368)), prKey)
	wantKeys(t, "passing check run of another app", w.deliver(t, "check_run", cr("success", 15368)))
	wantKeys(t, "tend's own completed check run", w.deliver(t, "check_run", cr("failure", w.gh.AppID())))

	suite := withInstallation(t, example(t, "check_suite", "completed", nil), 1, onBranch("check_suite"))
	wantKeys(t, "check suite completed", w.deliver(t, "check_suite", suite), prKey)
	wantKeys(t, "check suite elsewhere", w.deliver(t, "check_suite", withInstallation(t, example(t, "check_suite", "completed", nil), 1, nil)))

	run := withInstallation(t, example(t, "workflow_run", "completed", nil), 1, onBranch("workflow_run"))
	wantKeys(t, "workflow run completed", w.deliver(t, "workflow_run", run), prKey)

	status := func(state string) []byte {
		return withInstallation(t, example(t, "status", "", nil), 1, func(m map[string]any) {
			m["state"] = state
			m["branches"] = []any{map[string]any{"name": "master"}, map[string]any{"name": branch}}
		})
	}
	wantKeys(t, "failing status", w.deliver(t, "status", status("failure")), prKey)
	wantKeys(t, "pending status", w.deliver(t, "status", status("pending")))

	// A hashed branch name cannot be read back: the open PR's state block
	// names the key (the fake has no such PR, so nothing maps).
	hashed := withInstallation(t, example(t, "check_suite", "completed", nil), 1, func(m map[string]any) {
		onBranch("check_suite")(m)
		m["check_suite"].(map[string]any)["head_branch"] = "tend/readme/a b.md-0123abcd"
	})
	wantKeys(t, "unknown hashed branch", w.deliver(t, "check_suite", hashed))

	tendPR := func(m map[string]any) {
		pr := m["pull_request"].(map[string]any)
		pr["user"] = map[string]any{"login": w.gh.BotLogin(), "type": "Bot", "id": 1}
		pr["head"].(map[string]any)["ref"] = branch
		pr["body"] = "Edits the README.\n\n" + state
	}
	review := withInstallation(t, example(t, "pull_request_review", "submitted", nil), 1, tendPR)
	wantKeys(t, "review of a tend PR", w.deliver(t, "pull_request_review", review), prKey)
	comment := withInstallation(t, example(t, "pull_request_review_comment", "created", nil), 1, tendPR)
	wantKeys(t, "review comment on a tend PR", w.deliver(t, "pull_request_review_comment", comment), prKey)
	byBot := withInstallation(t, comment, 1, func(m map[string]any) {
		m["sender"] = map[string]any{"login": "dependabot[bot]", "type": "Bot", "id": 3}
	})
	wantKeys(t, "review comment by a bot", w.deliver(t, "pull_request_review_comment", byBot))
	wantKeys(t, "review of someone else's PR", w.deliver(t, "pull_request_review", withInstallation(t, example(t, "pull_request_review", "submitted", nil), 1, nil)))

	unlabeled := withInstallation(t, example(t, "pull_request", "unlabeled", nil), 1, func(m map[string]any) {
		tendPR(m)
		m["label"] = map[string]any{"name": botpr.NeedsHumanLabel}
	})
	wantKeys(t, "tend/needs-human removed", w.deliver(t, "pull_request", unlabeled), prKey)
	other := withInstallation(t, unlabeled, 1, func(m map[string]any) { m["label"] = map[string]any{"name": "bug"} })
	wantKeys(t, "another label removed", w.deliver(t, "pull_request", other))
}
