package agent_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/fakegemini"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/reconcilers"
	"github.com/tend-app/tend/reconcilers/agent"
)

const faultKey = "acme/web:docs:docs/a.md"

// fastBudgets keeps the retry waits of the fault tests short: backoff from
// 20 ms, 4 tries per call. The call timeout stays long enough for a loaded
// machine (a call cut short before it reaches the fake would not be
// counted); the timeout fault sets its own.
var fastBudgets = agent.Budgets{RetryBase: 20 * time.Millisecond, CallTimeout: 20 * time.Second, MaxRetryWait: 2 * time.Second}

// slowCallTimeout is the call timeout of the timeout fault, whose answers
// take slowAnswer.
const (
	slowCallTimeout = time.Second
	slowAnswer      = 30 * time.Second
)

// budgetsFor are the budgets of a fault's tests.
func budgetsFor(f modelFault) agent.Budgets {
	b := fastBudgets
	if f.slow {
		b.CallTimeout = slowCallTimeout
	}
	return b
}

// success is the script of a run that works: write the doc, submit.
func success() []fakegemini.Turn {
	return []fakegemini.Turn{
		fakegemini.Call("write_file", map[string]any{"path": "docs/a.md", "content": "# A\n\nReviewed.\n"}),
		fakegemini.Call("submit", map[string]any{"title": "Review", "summary": "Adds the line."}),
	}
}

// argsNotAnObject is a 200 answer whose function call's args is a string:
// valid JSON that the client cannot decode into a call.
const argsNotAnObject = `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"write_file","args":"docs/a.md"}}]},"finishReason":"STOP","index":0}]}`

// modelFault is one way a model call fails, and the delay the answer asks
// for (0: none).
type modelFault struct {
	name  string
	turn  fakegemini.Turn
	asked time.Duration
	slow  bool // the answer outlasts the call timeout
}

func modelFaults() []modelFault {
	return []modelFault{
		{"429 with RetryInfo", fakegemini.QuotaExceeded(250 * time.Millisecond), 250 * time.Millisecond, false},
		{"429 without RetryInfo", fakegemini.QuotaExceeded(0), 0, false},
		{"503 with RetryInfo", fakegemini.Unavailable(250 * time.Millisecond), 250 * time.Millisecond, false},
		{"503 without RetryInfo", fakegemini.Unavailable(0), 0, false},
		{"timeout", fakegemini.Delayed(slowAnswer, fakegemini.Call("write_file", map[string]any{"path": "docs/a.md", "content": "late"})), 0, true},
		{"truncated JSON", fakegemini.Truncated(0, fakegemini.Call("write_file", map[string]any{"path": "docs/a.md", "content": "cut"})), 0, false},
		{"args not an object", fakegemini.Raw(200, argsNotAnObject), 0, false},
		{"connection closed", fakegemini.Disconnect(), 0, false},
	}
}

// Each transient fault, twice in a row, is retried within the run: the
// run ends in the one PR the model meant, after exactly two extra
// requests, having waited what the API asked for.
func TestModelFaultsRetriedWithinTheRun(t *testing.T) {
	for _, f := range modelFaults() {
		t.Run(f.name, func(t *testing.T) {
			h := newHarness(t, map[string]string{"docs/a.md": "# A\n"}, append([]fakegemini.Turn{f.turn, f.turn}, success()...)...)
			h.rec.Budgets = budgetsFor(f)
			if res := h.run(t, faultKey, "resync"); res.Outcome != "pr-opened" {
				t.Fatalf("outcome %s", res.Outcome)
			}
			reqs := h.gem.Requests()
			if len(reqs) != 4 {
				t.Fatalf("%d model requests, want 4 (2 faults, 2 turns)", len(reqs))
			}
			for i := range 2 {
				gap := reqs[i+1].Time.Sub(reqs[i].Time)
				if gap < f.asked {
					t.Errorf("retry %d came %s after the fault, which asked for %s", i+1, gap, f.asked)
				}
			}
			if f.name == "timeout" && (!reqs[0].Abandoned || !reqs[1].Abandoned) {
				t.Errorf("the slow answers were not given up on")
			}
			branch := botpr.BranchName(keys.MustParse(faultKey))
			if got, _ := h.gh.File("acme/web", branch, "docs/a.md"); got != "# A\n\nReviewed.\n" {
				t.Errorf("PR content %q", got)
			}
			if n := len(h.gh.PullRequests("acme/web")); n != 1 {
				t.Errorf("%d PRs, want 1", n)
			}
		})
	}
}

// A fault that outlasts the run's tries (4 requests) requeues the key —
// after the delay the API asked for, or after 30 retry bases — and the
// run writes nothing: no branch, no PR, no memo. The next run works.
func TestModelFaultsOutlastingTheRetriesRequeue(t *testing.T) {
	for _, f := range modelFaults() {
		t.Run(f.name, func(t *testing.T) {
			h := newHarness(t, map[string]string{"docs/a.md": "# A\n"}, f.turn, f.turn, f.turn, f.turn)
			h.rec.Budgets = budgetsFor(f)
			_, err := h.runErr(faultKey, "resync")
			d, ok := reconcilers.RetryAfterDelay(err)
			want := f.asked
			if want == 0 {
				want = 30 * fastBudgets.RetryBase
			}
			if !ok || d != want {
				t.Fatalf("err = %v (RetryAfter %s, %v); want a RetryAfter of %s", err, d, ok, want)
			}
			if n := len(h.gem.Requests()); n != 4 {
				t.Errorf("%d model requests, want 4; err %v", n, err)
			}
			if reconcilers.IsPermanent(err) {
				t.Errorf("a transient fault is permanent")
			}
			assertNothingWritten(t, h)
			h.gem.Append(success()...)
			if res := h.run(t, faultKey, "resync"); res.Outcome != "pr-opened" {
				t.Fatalf("the run after the outage: %s", res.Outcome)
			}
		})
	}
}

// assertNothingWritten checks that no run left a branch, a commit or a PR.
func assertNothingWritten(t *testing.T, h *harness) {
	t.Helper()
	if prs := h.gh.PullRequests("acme/web"); len(prs) != 0 {
		t.Errorf("a failed run opened %d PRs", len(prs))
	}
	branch := botpr.BranchName(keys.MustParse(faultKey))
	if _, ok := h.gh.File("acme/web", branch, "docs/a.md"); ok {
		t.Errorf("a failed run wrote branch %s", branch)
	}
	for _, r := range h.gh.Requests() {
		if strings.HasPrefix(r.Operation, "git/create") || r.Operation == "pulls/create" || r.Operation == "git/update-ref" {
			t.Errorf("a failed run made %s", r.Operation)
		}
	}
}

// A delay longer than the run waits itself (MaxRetryWait) requeues the key
// at once, after that delay, without a second request; a key whose model
// stays down without naming a delay waits twice as long each time.
func TestModelOutageDelays(t *testing.T) {
	h := newHarness(t, map[string]string{"docs/a.md": "# A\n"},
		fakegemini.QuotaExceeded(90*time.Second),
		fakegemini.QuotaExceeded(10000*time.Hour),
		fakegemini.Unavailable(0), fakegemini.Unavailable(0),
		fakegemini.Unavailable(0), fakegemini.Unavailable(0),
	)
	h.rec.Budgets = fastBudgets
	h.rec.Budgets.ModelAttempts = 2
	_, err := h.runErr(faultKey, "resync")
	if d, _ := reconcilers.RetryAfterDelay(err); d != 90*time.Second {
		t.Errorf("long RetryInfo: err = %v, want a RetryAfter of 90s", err)
	}
	if n := len(h.gem.Requests()); n != 1 {
		t.Errorf("%d requests for a 90 s RetryInfo, want 1", n)
	}
	_, err = h.runErr(faultKey, "resync")
	if d, _ := reconcilers.RetryAfterDelay(err); d != 24*time.Hour {
		t.Errorf("a RetryInfo of 10,000 h: err = %v, want a RetryAfter of a day", err)
	}
	for i, want := range []time.Duration{2400 * time.Millisecond, 4800 * time.Millisecond} {
		_, err := h.runErr(faultKey, "resync")
		if d, _ := reconcilers.RetryAfterDelay(err); d != want {
			t.Errorf("outage run %d: err = %v, want a RetryAfter of %s", i+3, err, want)
		}
	}
	assertNothingWritten(t, h)
}

// With an open PR, the run's check run says the model is unavailable,
// names the fault, and carries no secret; the PR is left as it was.
func TestModelOutageOnAnOpenPR(t *testing.T) {
	h := newHarness(t, map[string]string{"docs/a.md": "# A\n"}, success()...)
	h.rec.Budgets = fastBudgets
	if res := h.run(t, faultKey, "resync"); res.Outcome != "pr-opened" {
		t.Fatalf("outcome %s", res.Outcome)
	}
	branch := botpr.BranchName(keys.MustParse(faultKey))
	head := h.pr(t, branch).HeadSHA
	h.gem.Append(fakegemini.QuotaExceeded(100*time.Millisecond), fakegemini.QuotaExceeded(100*time.Millisecond),
		fakegemini.QuotaExceeded(100*time.Millisecond), fakegemini.QuotaExceeded(100*time.Millisecond))
	h.gh.Commit("acme/web", "main", map[string]string{"docs/a.md": "# A\nmore\n"}, nil, "alice", "edit")
	_, err := h.runErr(faultKey, "push:a..b")
	if d, ok := reconcilers.RetryAfterDelay(err); !ok || d != 100*time.Millisecond {
		t.Fatalf("err = %v; want a RetryAfter of 100ms", err)
	}
	if got := h.pr(t, branch).HeadSHA; got != head {
		t.Errorf("the PR moved from %s to %s", head, got)
	}
	var found bool
	for _, c := range h.checkRuns("tend / docs") {
		if c.HeadSHA != head || c.Output.Title != "The model is unavailable" {
			continue
		}
		found = true
		if c.Conclusion != "neutral" || !strings.Contains(c.Output.Summary, "4 time(s)") || !strings.Contains(c.Output.Summary, "RESOURCE_EXHAUSTED") ||
			!strings.Contains(c.Output.Summary, "again in 100ms (as the API asked)") {
			t.Errorf("check run %s: %q", c.Conclusion, c.Output.Summary)
		}
		if strings.Contains(c.Output.Summary+c.Output.Text, "test-key") {
			t.Errorf("the API key reached the check run")
		}
	}
	if !found {
		t.Errorf("no check run says the model is unavailable: %+v", h.checkRuns("tend / docs"))
	}
}

// Answers the loop cannot use — no candidates, a candidate without
// content, an answer cut off at MAX_TOKENS — are answered with a
// correction naming the problem, and the run goes on to its PR.
func TestUnusableAnswersAreCorrected(t *testing.T) {
	corrected := func(want string, next fakegemini.Turn) fakegemini.Turn {
		return fakegemini.Expect(func(req fakegemini.Request) error {
			if !strings.Contains(req.UserText(), want) {
				return fmt.Errorf("the correction does not say %q: %q", want, req.UserText())
			}
			return nil
		}, next)
	}
	h := newHarness(t, map[string]string{"docs/a.md": "# A\n"},
		fakegemini.Raw(200, `{"candidates":[],"usageMetadata":{"promptTokenCount":10,"totalTokenCount":10}}`),
		corrected("without candidates", fakegemini.Fixed(fakegemini.Reply{OmitContent: true})),
		corrected("without content", fakegemini.FinishWith("MAX_TOKENS")),
		corrected("MAX_TOKENS", success()[0]),
		success()[1],
	)
	h.rec.Budgets = fastBudgets
	if res := h.run(t, faultKey, "resync"); res.Outcome != "pr-opened" {
		t.Fatalf("outcome %s", res.Outcome)
	}
	if n := len(h.gem.Requests()); n != 5 {
		t.Errorf("%d model requests, want 5", n)
	}
}

// When the corrections run out, or the model stops for safety, the run
// ends with a failing check run naming the problem, and writes nothing.
func TestUnusableAnswersEndTheRun(t *testing.T) {
	for _, c := range []struct {
		name   string
		script []fakegemini.Turn
		title  string
		says   string
	}{
		{"MAX_TOKENS every time", []fakegemini.Turn{fakegemini.FinishWith("MAX_TOKENS"), fakegemini.FinishWith("MAX_TOKENS"), fakegemini.FinishWith("MAX_TOKENS"), fakegemini.FinishWith("MAX_TOKENS")},
			"The model did not finish", "4 answers in this run were unusable, the last one an answer cut off at the output token limit (MAX_TOKENS)"},
		{"no candidates every time", []fakegemini.Turn{fakegemini.Raw(200, `{"candidates":[]}`), fakegemini.Raw(200, `{"candidates":[]}`), fakegemini.Raw(200, `{"candidates":[]}`), fakegemini.Raw(200, `{"candidates":[]}`)},
			"The model did not finish", "the last one an answer without candidates"},
		{"finish reason SAFETY", []fakegemini.Turn{fakegemini.FinishWith("SAFETY")}, "The model refused", "stopped for safety reasons"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, map[string]string{"docs/a.md": "# A\n"}, c.script...)
			h.rec.Budgets = fastBudgets
			res, err := h.runErr(faultKey, "resync")
			if err != nil || res.RequeueAfter != 0 {
				t.Fatalf("result %+v, err %v; want an ending without retry", res, err)
			}
			runs := h.checkRuns("tend / docs")
			if len(runs) != 1 || runs[0].Conclusion != "failure" || runs[0].Output.Title != c.title || !strings.Contains(runs[0].Output.Summary, c.says) {
				t.Fatalf("check runs %+v", runs)
			}
			assertNothingWritten(t, h)
			if n := len(h.gem.Requests()); n != len(c.script) {
				t.Errorf("%d model requests, want %d", n, len(c.script))
			}
		})
	}
}

// Function calls with wrong arguments — a number for a string, a missing
// required argument, an unknown function, wrongly typed submit arguments —
// are answered to the model as tool errors that say what is wrong, and
// the run goes on within its turn budget to the PR.
func TestBadFunctionCallsAreToolErrors(t *testing.T) {
	fc := func(name string, args map[string]any) fakegemini.Part {
		return fakegemini.Part{FunctionCall: &fakegemini.FunctionCall{Name: name, Args: args}}
	}
	wantErrors := func(want map[string]string) func(fakegemini.Request) error {
		return func(req fakegemini.Request) error {
			for name, text := range want {
				res, err := resultOf(req, name)
				if err != nil {
					return err
				}
				if msg, _ := res["error"].(string); !strings.Contains(msg, text) {
					b, _ := json.Marshal(res)
					return fmt.Errorf("%s answered %s, want an error saying %q", name, b, text)
				}
			}
			return nil
		}
	}
	h := newHarness(t, map[string]string{"docs/a.md": "# A\n"},
		fakegemini.Fixed(fakegemini.Reply{AllowUndeclared: true, Parts: []fakegemini.Part{
			fc("read_file", map[string]any{"path": 123}),
			fc("write_file", map[string]any{"path": "docs/a.md"}),
			fc("frobnicate", map[string]any{"x": 1}),
			fc("resolve_image", map[string]any{"image": []any{"nginx"}}),
		}}),
		fakegemini.Expect(wantErrors(map[string]string{
			"read_file":     `"path" must be a string, not a number`,
			"write_file":    `"content" is required`,
			"frobnicate":    `there is no tool "frobnicate"`,
			"resolve_image": `"image" must be a string, not an array`,
		}), fakegemini.Call("submit", map[string]any{"title": 7, "summary": "x"})),
		fakegemini.Expect(wantErrors(map[string]string{"submit": `"title" must be a string, not a number`}),
			fakegemini.Call("no_change", map[string]any{})),
		fakegemini.Expect(wantErrors(map[string]string{"no_change": `"reason" is required`}), success()[0]),
		success()[1],
	)
	h.rec.Budgets = fastBudgets
	h.rec.Budgets.MaxTurns = 5
	if res := h.run(t, faultKey, "resync"); res.Outcome != "pr-opened" {
		t.Fatalf("outcome %s", res.Outcome)
	}
	branch := botpr.BranchName(keys.MustParse(faultKey))
	if got, _ := h.gh.File("acme/web", branch, "docs/a.md"); got != "# A\n\nReviewed.\n" {
		t.Errorf("PR content %q", got)
	}
	if text := h.checkRuns("tend / docs")[0].Output.Text; !strings.Contains(text, "`frobnicate`") || !strings.Contains(text, "must be a string") {
		t.Errorf("the trace does not show the bad calls:\n%s", text)
	}
}

// An error retrying cannot fix (400: the key is invalid) is not retried
// within the run: one request, the PR's check run fails naming it, and the
// error goes to the queue's own backoff (not a RetryAfter).
func TestModelRejectsTheRequest(t *testing.T) {
	h := newHarness(t, map[string]string{"docs/a.md": "# A\n"}, success()...)
	h.rec.Budgets = fastBudgets
	if res := h.run(t, faultKey, "resync"); res.Outcome != "pr-opened" {
		t.Fatalf("outcome %s", res.Outcome)
	}
	head := h.pr(t, botpr.BranchName(keys.MustParse(faultKey))).HeadSHA
	h.gem.Append(fakegemini.Error(400, nil, "API key not valid. Please pass a valid API key."))
	h.gh.Commit("acme/web", "main", map[string]string{"docs/a.md": "# A\nmore\n"}, nil, "alice", "edit")
	_, err := h.runErr(faultKey, "push:a..b")
	if _, later := reconcilers.RetryAfterDelay(err); err == nil || later || reconcilers.IsPermanent(err) {
		t.Fatalf("err = %v; want a plain error for the queue's backoff", err)
	}
	if n := len(h.gem.Requests()); n != 3 {
		t.Errorf("%d model requests, want 3 (2 for the PR, 1 rejected)", n)
	}
	var found bool
	for _, c := range h.checkRuns("tend / docs") {
		if c.HeadSHA == head && c.Output.Title == "The model call failed" {
			found = c.Conclusion == "failure" && strings.Contains(c.Output.Summary, "API key not valid")
		}
	}
	if !found {
		t.Errorf("no failing check run names the rejection: %+v", h.checkRuns("tend / docs"))
	}
}
