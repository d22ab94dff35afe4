package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/command"
	"github.com/tend-app/tend/internal/fakegithub"
)

// steerWorld is an images rule with one open PR, a writer (maya) and a
// read-only user (rita).
type steerWorld struct {
	*liveWorld
	reg    *testRegistry
	key    string
	branch string
	pr     int
}

const (
	writer   = "maya"
	readOnly = "rita"
)

func startSteerWorld(t *testing.T) *steerWorld {
	t.Helper()
	reg := newRegistry(t)
	reg.push(t, "acme/app", "1.0", false)
	w := newWorld(t, reg, worldOptions{
		repo: "acme/web", webhooks: true,
		files: map[string]string{".github/tend.yaml": imagesConfig, "deploy/app.yaml": deployment(reg.ref("acme/app", "1.0"))},
	})
	w.gh.SetPermission("acme/web", writer, "write")
	w.gh.SetPermission("acme/web", readOnly, "read")
	sw := &steerWorld{liveWorld: w, reg: reg, key: "acme/web:pin-images:deploy/app.yaml"}
	sw.branch = botpr.BranchName(mustKey(t, sw.key))
	w.enqueue(t, sw.key)
	w.settle(t)
	sw.pr = w.prFor(t, sw.branch).Number
	return sw
}

// say comments on the PR and waits for tend to settle.
func (w *steerWorld) say(t *testing.T, who, body string) int64 {
	t.Helper()
	id := w.gh.AddComment(w.repo, w.pr, who, body)
	w.settle(t)
	return id
}

// checks are the rule's check runs on the PR's current head.
func (w *steerWorld) checks(t *testing.T) []fakegithub.CheckRun {
	t.Helper()
	var out []fakegithub.CheckRun
	for _, c := range w.checkRunsOn(w.prFor(t, w.branch).HeadSHA) {
		if c.Name == "tend / pin-images" {
			out = append(out, c)
		}
	}
	return out
}

// reactions are tend's reactions on a comment.
func (w *steerWorld) reactions(id int64) []string {
	var out []string
	for _, c := range w.gh.Comments(w.repo, w.pr) {
		if c.ID != id {
			continue
		}
		for _, r := range c.Reactions {
			if r.User == w.gh.BotLogin() {
				out = append(out, r.Content)
			}
		}
	}
	slices.Sort(out)
	return out
}

// botSaid counts tend's comments on the PR containing s.
func (w *steerWorld) botSaid(s string) int {
	n := 0
	for _, c := range w.gh.Comments(w.repo, w.pr) {
		if c.User == w.gh.BotLogin() && strings.Contains(c.Body, s) {
			n++
		}
	}
	return n
}

func wantReactions(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: tend's reactions %v, want %v", what, got, want)
	}
}

// Who may command, and what /reconcile, help and free text do on a PR of a
// deterministic rule.
func TestCommandsPermissionsAndReplies(t *testing.T) {
	w := startSteerWorld(t)
	before := len(w.checks(t))

	// A read-only user: no effect, however often, and one reply at most.
	r1 := w.say(t, readOnly, "/reconcile")
	r2 := w.say(t, readOnly, "/reconcile recreate")
	r3 := w.say(t, readOnly, "/reconcile help")
	r4 := w.say(t, readOnly, "/reconcile skip")
	r5 := w.say(t, readOnly, "/reconcile use tags instead")
	if n := len(w.checks(t)); n != before {
		t.Errorf("a read-only user's commands made %d check runs", n-before)
	}
	if p := prByNumber(t, w.liveWorld, w.pr); slices.Contains(p.Labels, command.SkipLabel) || w.botSaid("deterministic") != 0 || w.botSaid("`/reconcile recreate`") != 0 {
		t.Errorf("a read-only user's skip, help or instructions had an effect (labels %v)", p.Labels)
	}
	if n := w.botSaid("@" + readOnly + " only people with write"); n != 1 {
		t.Errorf("%d replies to the read-only user, want exactly 1", n)
	}
	for _, id := range []int64{r1, r2, r3, r4, r5} {
		wantReactions(t, "read-only user's command", w.reactions(id))
	}

	// A writer's /reconcile: a fresh check run though nothing changed,
	// eyes when picked up and +1 when done.
	id := w.say(t, writer, "/reconcile")
	runs := w.checks(t)
	if len(runs) != before+1 || runs[len(runs)-1].Conclusion != "success" {
		t.Fatalf("after /reconcile: %d check runs (had %d): %+v", len(runs), before, runs)
	}
	wantReactions(t, "/reconcile", w.reactions(id), "+1", "eyes")

	// help: one reply listing the commands, no run, no reaction.
	help := w.say(t, writer, "/reconcile help")
	if n := w.botSaid("`/reconcile recreate`"); n != 1 {
		t.Errorf("%d help replies, want 1", n)
	}
	if n := len(w.checks(t)); n != before+1 {
		t.Errorf("help started a run (%d check runs)", n)
	}
	wantReactions(t, "help", w.reactions(help))
	w.say(t, writer, "/reconcile-everything")
	if n := w.botSaid("`/reconcile recreate`"); n != 2 {
		t.Errorf("an unknown command got %d help replies in all, want 2", n)
	}

	// Instructions for a deterministic rule: a reply saying so, and a run.
	instr := w.say(t, writer, "/reconcile please use tags")
	if n := w.botSaid("deterministic"); n != 1 {
		t.Errorf("%d 'deterministic' replies", n)
	}
	if n := len(w.checks(t)); n != before+2 {
		t.Errorf("instructions: %d check runs, want %d", n, before+2)
	}
	wantReactions(t, "instructions", w.reactions(instr), "+1", "eyes")

	// Bots and edited comments do not count.
	edited := w.gh.AddComment(w.repo, w.pr, writer, "LGTM")
	w.settle(t)
	w.gh.EditComment(w.repo, edited, writer, "/reconcile")
	w.settle(t)
	w.enqueue(t, w.key) // a resync reads the comments again
	w.settle(t)
	if n := len(w.checks(t)); n != before+2 {
		t.Errorf("an edited comment counted as a command: %d check runs", n)
	}
	wantReactions(t, "edited comment", w.reactions(edited))
	if v := w.gh.TakeViolations(); len(v) > 0 {
		t.Errorf("OpenAPI violations: %v", v)
	}
}

// A redelivered command applies once; a command whose delivery was lost is
// found by the next run of its key.
func TestCommandsNeverTwiceNeverLost(t *testing.T) {
	w := startSteerWorld(t)
	before := len(w.checks(t))
	id := w.say(t, writer, "/reconcile")
	if n := len(w.checks(t)); n != before+1 {
		t.Fatalf("/reconcile: %d check runs, want %d", n, before+1)
	}
	var delivery string
	for _, d := range w.gh.Deliveries() {
		if d.Event == "issue_comment" && strings.Contains(string(d.Body), `"id":`+strconv.FormatInt(id, 10)) {
			delivery = d.ID
		}
	}
	if delivery == "" {
		t.Fatal("no delivery of the comment")
	}
	if err := w.gh.Redeliver(delivery); err != nil {
		t.Fatal(err)
	}
	w.settle(t)
	if n := len(w.checks(t)); n != before+1 {
		t.Errorf("a redelivered command ran again: %d check runs", n)
	}

	// The delivery of the next command is lost; the resync finds it.
	w.gh.DropWebhooks(1)
	lost := w.say(t, writer, "/reconcile")
	if n := len(w.checks(t)); n != before+1 {
		t.Fatalf("a lost delivery ran something: %d check runs", n)
	}
	wantReactions(t, "before the resync", w.reactions(lost))
	w.enqueue(t, w.key)
	w.settle(t)
	if n := len(w.checks(t)); n != before+2 {
		t.Errorf("the resync did not find the lost command: %d check runs", n)
	}
	wantReactions(t, "lost command", w.reactions(lost), "+1", "eyes")
}

// A command whose delivery was lost on a PR nothing else touched since
// tend opened it is found by the next resync. Such a run reads no comments
// while the PR's updated_at has not moved since tend opened it, so this
// is what proves that a comment moves it and is then read (GitHub keeps
// updated_at to the second: the comment is made in a later second than
// the PR was opened, as any comment by a person who has seen the PR is).
func TestCommandLostOnAnUntouchedPR(t *testing.T) {
	w := startSteerWorld(t)
	before := len(w.checks(t))
	// A resync with nothing new reads no comments and changes nothing.
	w.gh.ResetRequests()
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	if n := len(w.checks(t)); n != before {
		t.Fatalf("a resync with nothing new made %d check runs, want %d", n, before)
	}
	for _, r := range w.gh.Requests() {
		if r.Operation == "issues/list-comments" || r.Operation == "pulls/list" && strings.Contains(r.Query, "head=") {
			t.Errorf("a resync of an untouched PR made %s %s?%s", r.Method, r.Path, r.Query)
		}
	}
	fakegithub.WaitNextSecond()
	w.gh.DropWebhooks(1)
	lost := w.say(t, writer, "/reconcile")
	wantReactions(t, "before the resync", w.reactions(lost))
	// The rule's resync: its listing of open PRs serves the path key.
	w.enqueue(t, "acme/web:pin-images")
	w.settle(t)
	if n := len(w.checks(t)); n != before+1 {
		t.Errorf("the resync did not find the lost command: %d check runs, want %d", n, before+1)
	}
	wantReactions(t, "lost command", w.reactions(lost), "+1", "eyes")
}

// Re-run and both buttons make a new check run on the same head commit,
// even when nothing changed; re-running the config's check reports again.
func TestCheckRunButtons(t *testing.T) {
	w := startSteerWorld(t)
	head := w.prFor(t, w.branch).HeadSHA
	for _, click := range []struct {
		name string
		do   func(id int64)
	}{
		{"re-run", func(id int64) { w.gh.RerequestCheckRun(w.repo, id, writer) }},
		{"reconcile now", func(id int64) { w.gh.RequestCheckRunAction(w.repo, id, "reconcile", writer) }},
		{"recreate", func(id int64) { w.gh.RequestCheckRunAction(w.repo, id, "recreate", writer) }},
	} {
		runs := w.checks(t)
		last := runs[len(runs)-1]
		if len(last.Actions) != 2 || last.Actions[0].Identifier != "reconcile" || last.Actions[1].Identifier != "recreate" {
			t.Fatalf("actions %+v", last.Actions)
		}
		click.do(last.ID)
		w.settle(t)
		after := w.checks(t)
		if len(after) != len(runs)+1 || after[len(after)-1].ID <= last.ID || after[len(after)-1].HeadSHA != head {
			t.Errorf("%s: check runs %d -> %d; want a new one on %s", click.name, len(runs), len(after), head)
		}
		if got := w.prFor(t, w.branch).HeadSHA; got != head {
			t.Errorf("%s moved the head of an up-to-date PR", click.name)
		}
	}

	var config []fakegithub.CheckRun
	for _, c := range w.gh.CheckRuns(w.repo) {
		if c.Name == "tend / config" {
			config = append(config, c)
		}
	}
	if len(config) == 0 {
		// A push to the config makes tend report on it.
		w.gh.Commit(w.repo, "main", map[string]string{".github/tend.yaml": imagesConfig + "# reviewed\n"}, nil, "alice", "Touch the config")
		w.settle(t)
		for _, c := range w.gh.CheckRuns(w.repo) {
			if c.Name == "tend / config" {
				config = append(config, c)
			}
		}
	}
	if len(config) == 0 {
		t.Fatal("no config check run")
	}
	w.gh.RerequestCheckRun(w.repo, config[len(config)-1].ID, writer)
	w.settle(t)
	n := 0
	for _, c := range w.gh.CheckRuns(w.repo) {
		if c.Name == "tend / config" {
			n++
		}
	}
	if n != len(config)+1 {
		t.Errorf("re-running tend / config: %d config check runs, want %d", n, len(config)+1)
	}
}

// skip holds through a moved tag, a push and a resync; /reconcile resumes.
// recreate discards people's commits.
func TestSkipAndRecreate(t *testing.T) {
	w := startSteerWorld(t)
	pr := w.prFor(t, w.branch)
	skip := w.say(t, writer, "/reconcile skip")
	if p := prByNumber(t, w.liveWorld, w.pr); !slices.Contains(p.Labels, command.SkipLabel) {
		t.Fatalf("labels %v after skip", p.Labels)
	}
	wantReactions(t, "skip", w.reactions(skip), "+1", "eyes")
	checks := len(w.checks(t))

	moved := w.reg.push(t, "acme/app", "1.0", false)
	w.gh.Commit(w.repo, "main", map[string]string{"deploy/app.yaml": "# moved\n" + deployment(w.reg.ref("acme/app", "1.0"))}, nil, "alice", "Touch the deployment")
	w.settle(t)
	w.enqueue(t, w.key)
	w.settle(t)
	if got := w.prFor(t, w.branch); got.HeadSHA != pr.HeadSHA || got.State != "open" || len(w.checks(t)) != checks {
		t.Fatalf("a skipped PR was touched: head %s -> %s, state %s", pr.HeadSHA, got.HeadSHA, got.State)
	}

	w.say(t, writer, "/reconcile")
	got := w.prFor(t, w.branch)
	content, _ := w.gh.File(w.repo, w.branch, "deploy/app.yaml")
	if slices.Contains(prByNumber(t, w.liveWorld, w.pr).Labels, command.SkipLabel) || got.HeadSHA == pr.HeadSHA || !strings.Contains(content, moved) || !strings.HasPrefix(content, "# moved\n") {
		t.Fatalf("/reconcile did not resume: head %s, content %q", got.HeadSHA, content)
	}

	// A person pushes to the PR branch: tend stops, and says so.
	w.gh.Commit(w.repo, w.branch, map[string]string{"deploy/app.yaml": content + "# mine\n"}, nil, "alice", "My tweak")
	w.settle(t)
	if w.botSaid("/reconcile recreate") != 1 {
		t.Fatalf("no hands-off notice")
	}
	id := w.say(t, writer, "/reconcile recreate")
	got = w.prFor(t, w.branch)
	content, _ = w.gh.File(w.repo, w.branch, "deploy/app.yaml")
	commits := w.gh.CommitsOn(w.repo, w.branch)
	baseHead, _ := w.gh.Branch(w.repo, "main")
	if strings.Contains(content, "# mine") || len(commits[0].Parents) != 1 || commits[0].Parents[0] != baseHead || commits[0].SHA != got.HeadSHA {
		t.Errorf("recreate: content %q, head %+v, base %s", content, commits[0], baseHead)
	}
	wantReactions(t, "recreate", w.reactions(id), "+1", "eyes")
	// Managed again: the next moved tag updates the PR.
	again := w.reg.push(t, "acme/app", "1.0", false)
	w.enqueue(t, w.key)
	w.settle(t)
	if content, _ := w.gh.File(w.repo, w.branch, "deploy/app.yaml"); !strings.Contains(content, again) {
		t.Errorf("after recreate tend does not manage the PR: %q", content)
	}

	// A button is a /reconcile: it resumes a skipped PR.
	w.say(t, writer, "/reconcile skip")
	runs := w.checks(t)
	w.gh.RequestCheckRunAction(w.repo, runs[len(runs)-1].ID, "reconcile", writer)
	w.settle(t)
	if slices.Contains(prByNumber(t, w.liveWorld, w.pr).Labels, command.SkipLabel) || len(w.checks(t)) != len(runs)+1 {
		t.Errorf("Reconcile now did not resume a skipped PR with a fresh check run")
	}

	// Removing the skip label by hand resumes too.
	w.say(t, writer, "/reconcile skip")
	last := w.reg.push(t, "acme/app", "1.0", false)
	w.enqueue(t, w.key)
	w.settle(t)
	if content, _ := w.gh.File(w.repo, w.branch, "deploy/app.yaml"); strings.Contains(content, last) {
		t.Fatalf("a skipped PR followed a moved tag")
	}
	w.gh.UnlabelIssue(w.repo, w.pr, command.SkipLabel, writer)
	w.settle(t)
	if content, _ := w.gh.File(w.repo, w.branch, "deploy/app.yaml"); !strings.Contains(content, last) {
		t.Errorf("removing the skip label did not resume: %q", content)
	}
}
