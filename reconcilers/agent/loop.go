package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/genai"

	"github.com/tend-app/tend/internal/clip"
	"github.com/tend-app/tend/reconcilers/agent/worktree"
)

// Budgets bound one run.
type Budgets struct {
	MaxTurns  int           // model calls (default 30)
	MaxTokens int64         // prompt + output tokens of the run (default 400,000)
	MaxWall   time.Duration // wall time of the run (default 5 minutes)
	// MaxCorrections bounds the corrective messages sent back for a
	// malformed or empty answer (default 3).
	MaxCorrections int
	// ModelAttempts bounds the tries of one model call on transient errors
	// before the key is requeued (default 4).
	ModelAttempts int
	// CallTimeout bounds one model call; a call that outlasts it is a
	// transient failure, retried like a 503 (default 2 minutes).
	CallTimeout time.Duration
	// RetryBase is the wait before the second try of a model call when the
	// API names no delay; it doubles with each try, with jitter (default
	// 1 s). A key requeued without a delay from the API waits 30 times
	// this, doubling with each requeue in a row, up to 30 minutes.
	RetryBase time.Duration
	// MaxRetryWait is the longest delay the API may ask for that the run
	// waits out itself; a longer one requeues the key after that delay
	// instead of holding a worker (default 1 minute).
	MaxRetryWait time.Duration
}

func (b *Budgets) defaults() {
	if b.MaxTurns <= 0 {
		b.MaxTurns = 30
	}
	if b.MaxTokens <= 0 {
		b.MaxTokens = 400_000
	}
	if b.MaxWall <= 0 {
		b.MaxWall = 5 * time.Minute
	}
	if b.MaxCorrections <= 0 {
		b.MaxCorrections = 3
	}
	if b.ModelAttempts <= 0 {
		b.ModelAttempts = 4
	}
	if b.CallTimeout <= 0 {
		b.CallTimeout = 2 * time.Minute
	}
	if b.RetryBase <= 0 {
		b.RetryBase = time.Second
	}
	if b.MaxRetryWait <= 0 {
		b.MaxRetryWait = time.Minute
	}
}

// workspace is the worktree as the loop uses it.
type workspace interface {
	Declarations() []*genai.FunctionDeclaration
	Handles(name string) bool
	Call(ctx context.Context, name string, args map[string]any) (map[string]any, error)
	Check(ctx context.Context) []string
}

// Ending says how a run ended.
type Ending string

const (
	EndSubmitted Ending = "submitted"
	EndNoChange  Ending = "no-change"
	EndTurns     Ending = "budget-turns"
	EndTokens    Ending = "budget-tokens"
	EndTime      Ending = "budget-time"
	EndBlocked   Ending = "blocked"
	EndNoAnswer  Ending = "no-answer"
)

// Budget reports whether the run ended on a budget.
func (e Ending) Budget() bool { return e == EndTurns || e == EndTokens || e == EndTime }

// ToolCall is one tool call of a run, for the trace.
type ToolCall struct {
	Turn    int
	Name    string
	Path    string
	Outcome string // ok, refused, error
	Detail  string
}

// Turn is one model call, for the trace.
type Turn struct {
	N            int
	PromptTokens int64
	OutputTokens int64
	BytesSent    int
	Calls        int
	Note         string
}

// Record is what a run did.
type Record struct {
	Ending    Ending
	Rationale string // the model's summary, no_change reason, or why the run ended
	Title     string // submit's title
	Turns     []Turn
	Calls     []ToolCall
	Tokens    int64
	Duration  time.Duration
	BytesSent int
}

type loop struct {
	model    Model
	name     string
	budgets  Budgets
	system   string
	task     string
	ws       workspace
	ctxTools *contextTools
	decls    []*genai.FunctionDeclaration
	log      zerolog.Logger
	// onTokens is told about every turn's tokens (the daily budget).
	onTokens func(n int64)
}

// errRequeue wraps a model failure that outlasted the run's retries.
type errRequeue struct {
	err      error
	attempts int           // model requests made for the failing call
	after    time.Duration // the delay the API asked for, or 0
}

func (e *errRequeue) Error() string {
	return fmt.Sprintf("model unavailable after %d attempt(s): %v", e.attempts, e.err)
}
func (e *errRequeue) Unwrap() error { return e.err }

// errModelCall is a model failure that retrying the same request cannot
// fix (a 400, an invalid key, a model that does not exist).
type errModelCall struct{ err error }

func (e *errModelCall) Error() string { return "model call: " + e.err.Error() }
func (e *errModelCall) Unwrap() error { return e.err }

// run talks with the model until it submits, says no change is needed,
// refuses, or a budget ends the run.
func (l *loop) run(ctx context.Context) (*Record, error) {
	start := time.Now()
	rec := &Record{}
	defer func() { rec.Duration = time.Since(start) }()
	deadline := start.Add(l.budgets.MaxWall)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	cfg := &genai.GenerateContentConfig{
		SystemInstruction: &genai.Content{Parts: []*genai.Part{{Text: l.system}}},
		Tools:             []*genai.Tool{{FunctionDeclarations: l.decls}},
		ToolConfig:        &genai.ToolConfig{FunctionCallingConfig: &genai.FunctionCallingConfig{Mode: genai.FunctionCallingConfigModeAuto}},
	}
	contents := []*genai.Content{{Role: genai.RoleUser, Parts: []*genai.Part{{Text: l.task}}}}
	corrections := 0
	for turn := 1; ; turn++ {
		if l.budgetSpent(turn, rec) {
			return rec, nil
		}
		resp, sent, err := l.generate(ctx, contents, cfg)
		if err != nil {
			var rq *errRequeue
			if !errors.As(err, &rq) && ctx.Err() != nil && time.Now().After(deadline) {
				rec.Ending, rec.Rationale = EndTime, fmt.Sprintf("The run took longer than its %s budget.", l.budgets.MaxWall)
				return rec, nil
			}
			return rec, err
		}
		t := Turn{N: turn, BytesSent: sent}
		rec.BytesSent += sent
		l.countTokens(&t, rec, resp.UsageMetadata)
		var cand *genai.Candidate
		if len(resp.Candidates) > 0 {
			cand = resp.Candidates[0]
		}
		if note, why := refusal(resp.PromptFeedback, cand); note != "" {
			t.Note = note
			l.endTurn(rec, t)
			rec.Ending, rec.Rationale = EndBlocked, why
			return rec, nil
		}
		calls, text := splitAnswer(cand)
		if len(calls) == 0 {
			corrections++
			reply, done := l.correct(rec, t, cand, text, corrections)
			if done {
				return rec, nil
			}
			contents = append(contents, reply...)
			continue
		}
		// Echo the model's content as it was sent (with thought signatures).
		contents = append(contents, cand.Content)
		t.Calls = len(calls)
		responses, done, err := l.callTools(ctx, turn, calls, rec)
		if err != nil {
			return rec, err
		}
		l.endTurn(rec, t)
		if done {
			return rec, nil
		}
		contents = append(contents, &genai.Content{Role: genai.RoleUser, Parts: responses})
	}
}

// budgetSpent reports whether the run may not start turn: it used its
// turns or its tokens. It records the ending when so.
func (l *loop) budgetSpent(turn int, rec *Record) bool {
	switch {
	case turn > l.budgets.MaxTurns:
		rec.Ending, rec.Rationale = EndTurns, fmt.Sprintf("The run used its %d turns without finishing.", l.budgets.MaxTurns)
	case rec.Tokens >= l.budgets.MaxTokens:
		rec.Ending, rec.Rationale = EndTokens, fmt.Sprintf("The run used %d tokens, its budget is %d.", rec.Tokens, l.budgets.MaxTokens)
	default:
		return false
	}
	return true
}

// countTokens adds a turn's token usage to the turn, the run and the daily
// budget.
func (l *loop) countTokens(t *Turn, rec *Record, u *genai.GenerateContentResponseUsageMetadata) {
	if u == nil {
		return
	}
	t.PromptTokens, t.OutputTokens = int64(u.PromptTokenCount), int64(u.CandidatesTokenCount)+int64(u.ThoughtsTokenCount)
	used := int64(u.TotalTokenCount)
	if used == 0 {
		used = t.PromptTokens + t.OutputTokens
	}
	rec.Tokens += used
	if l.onTokens != nil {
		l.onTokens(used)
	}
}

// refusal reports whether the model refused the request or stopped for
// safety reasons: a note for the trace and the run's rationale, or "".
func refusal(pf *genai.GenerateContentResponsePromptFeedback, cand *genai.Candidate) (note, rationale string) {
	if pf != nil && pf.BlockReason != "" {
		return "blocked: " + string(pf.BlockReason),
			fmt.Sprintf("The model refused the request (%s).", strings.TrimSpace(string(pf.BlockReason)+" "+pf.BlockReasonMessage))
	}
	if cand == nil {
		return "", ""
	}
	switch cand.FinishReason {
	case genai.FinishReasonSafety, genai.FinishReasonProhibitedContent, genai.FinishReasonBlocklist, genai.FinishReasonSPII, genai.FinishReasonRecitation:
		return "stopped: " + string(cand.FinishReason),
			fmt.Sprintf("The model stopped for %s reasons and produced nothing usable.", strings.ToLower(string(cand.FinishReason)))
	}
	return "", ""
}

// splitAnswer returns the function calls of an answer and its visible text
// (thoughts aside).
func splitAnswer(cand *genai.Candidate) ([]*genai.FunctionCall, string) {
	if cand == nil || cand.Content == nil {
		return nil, ""
	}
	var calls []*genai.FunctionCall
	var text strings.Builder
	for _, p := range cand.Content.Parts {
		if p == nil {
			continue
		}
		if p.FunctionCall != nil {
			calls = append(calls, p.FunctionCall)
		} else if p.Text != "" && !p.Thought {
			text.WriteString(p.Text)
		}
	}
	return calls, text.String()
}

// correct answers a turn without a tool call (a malformed call, an empty
// answer or prose) by saying what is wanted, a bounded number of times. It
// returns the contents to add to the conversation, or done when the
// corrections are used up and the run ends.
func (l *loop) correct(rec *Record, t Turn, cand *genai.Candidate, text string, corrections int) (reply []*genai.Content, done bool) {
	reason := unusable(cand, text)
	t.Note = reason
	l.endTurn(rec, t)
	if corrections > l.budgets.MaxCorrections {
		rec.Ending = EndNoAnswer
		rec.Rationale = fmt.Sprintf("The model did not finish with submit or no_change: %d answers in this run were unusable, the last one %s.", corrections, reason)
		if text != "" {
			rec.Rationale += " It said: " + clip.Text(strings.TrimSpace(text), 600, truncated)
		}
		return nil, true
	}
	if cand != nil && cand.Content != nil && len(cand.Content.Parts) > 0 {
		reply = append(reply, cand.Content)
	}
	reply = append(reply, &genai.Content{Role: genai.RoleUser, Parts: []*genai.Part{{Text: fmt.Sprintf(
		"Your last answer was unusable: %s. Use the tools to work, and finish by calling submit(title, summary) or no_change(reason).", reason)}}})
	return reply, false
}

// unusable names what was wrong with an answer that called no tool.
func unusable(cand *genai.Candidate, text string) string {
	switch {
	case cand == nil:
		return "an answer without candidates"
	case cand.FinishReason == genai.FinishReasonMalformedFunctionCall:
		return "a malformed function call"
	case cand.FinishReason == genai.FinishReasonMaxTokens:
		return "an answer cut off at the output token limit (MAX_TOKENS)"
	case text != "":
		return "text without a tool call"
	case cand.Content == nil:
		return fmt.Sprintf("an answer without content (finish reason %s)", cmp.Or(string(cand.FinishReason), "none"))
	}
	return "an empty answer"
}

// callTools runs a turn's tool calls and returns their responses. At most
// one submit or no_change counts per turn; done reports that it ended the
// run. An error means the repository could not be read.
func (l *loop) callTools(ctx context.Context, turn int, calls []*genai.FunctionCall, rec *Record) (responses []*genai.Part, done bool, err error) {
	var finish *genai.FunctionCall
	for _, fc := range calls {
		if fc.Name == toolSubmit || fc.Name == toolNoChange {
			if finish == nil {
				finish = fc
				continue
			}
			responses = append(responses, respond(fc, errResult("finish once: one submit or no_change per turn")))
			continue
		}
		res, err := l.dispatch(ctx, turn, fc, rec)
		if err != nil {
			// The repository could not be read (GitHub failed): stop
			// rather than let the model work from a partial view.
			return nil, false, err
		}
		responses = append(responses, respond(fc, res))
	}
	if finish != nil {
		done, res := l.finish(ctx, turn, finish, rec)
		if done {
			return nil, true, nil
		}
		responses = append(responses, respond(finish, res))
	}
	return responses, false, nil
}

// endTurn records a finished turn and logs it.
func (l *loop) endTurn(rec *Record, t Turn) {
	rec.Turns = append(rec.Turns, t)
	l.logTurn(t)
}

func respond(fc *genai.FunctionCall, res map[string]any) *genai.Part {
	return &genai.Part{FunctionResponse: &genai.FunctionResponse{ID: fc.ID, Name: fc.Name, Response: res}}
}

// dispatch runs one tool call and records it.
func (l *loop) dispatch(ctx context.Context, turn int, fc *genai.FunctionCall, rec *Record) (map[string]any, error) {
	args := fc.Args
	if args == nil {
		args = map[string]any{}
	}
	path, _ := args["path"].(string)
	if path == "" {
		path, _ = args["pattern"].(string)
	}
	if path == "" {
		path, _ = args["image"].(string)
	}
	var res map[string]any
	switch {
	case l.ws.Handles(fc.Name):
		var err error
		res, err = l.ws.Call(ctx, fc.Name, args)
		if err != nil {
			if errors.Is(err, worktree.ErrSource) || ctx.Err() != nil {
				return nil, fmt.Errorf("tool %s: %w", fc.Name, err)
			}
			res = errResult(err.Error())
		}
	case fc.Name == toolGetRelease || fc.Name == toolGetIssue || fc.Name == toolResolveImage:
		res = l.ctxTools.call(ctx, fc.Name, args)
	default:
		res = errResult(fmt.Sprintf("there is no tool %q", fc.Name))
	}
	outcome, detail := "ok", ""
	if e, ok := res["error"].(string); ok {
		outcome, detail = "error", e
		if r, _ := res["refused"].(bool); r || strings.Contains(strings.ToLower(e), "refused") || strings.Contains(strings.ToLower(e), "not allowed") {
			outcome = "refused"
		}
	}
	rec.Calls = append(rec.Calls, ToolCall{Turn: turn, Name: fc.Name, Path: clip.Text(path, 200, truncated), Outcome: outcome, Detail: clip.Text(detail, 300, truncated)})
	l.log.Debug().Int("turn", turn).Str("tool", fc.Name).Str("path", path).Str("outcome", outcome).Msg("tool call")
	return res, nil
}

// finish handles submit and no_change. It reports done when the run ends;
// a submission the gate rejects goes back to the model.
func (l *loop) finish(ctx context.Context, turn int, fc *genai.FunctionCall, rec *Record) (bool, map[string]any) {
	args := fc.Args
	if fc.Name == toolNoChange {
		reason, problem := stringArg(args, "reason")
		if problem == "" && strings.TrimSpace(reason) == "" {
			problem = "the reason is empty"
		}
		if problem != "" {
			rec.Calls = append(rec.Calls, ToolCall{Turn: turn, Name: fc.Name, Outcome: "error", Detail: problem})
			return false, errResult("no_change needs a reason: " + problem)
		}
		rec.Calls = append(rec.Calls, ToolCall{Turn: turn, Name: fc.Name, Outcome: "ok"})
		rec.Ending, rec.Rationale = EndNoChange, clip.Text(strings.TrimSpace(reason), 4000, truncated)
		return true, nil
	}
	title, problem := stringArg(args, "title")
	summary, problem2 := stringArg(args, "summary")
	problem = cmp.Or(problem, problem2)
	if problem == "" && (strings.TrimSpace(title) == "" || strings.TrimSpace(summary) == "") {
		problem = "the title or the summary is empty"
	}
	if problem != "" {
		rec.Calls = append(rec.Calls, ToolCall{Turn: turn, Name: fc.Name, Outcome: "error", Detail: problem})
		return false, errResult("submit needs a title and a summary: " + problem)
	}
	if problems := l.ws.Check(ctx); len(problems) > 0 {
		rec.Calls = append(rec.Calls, ToolCall{Turn: turn, Name: fc.Name, Outcome: "rejected", Detail: clip.Text(strings.Join(problems, "; "), 300, truncated)})
		return false, map[string]any{"error": "tend cannot accept these changes yet; fix them and submit again", "problems": problems}
	}
	rec.Calls = append(rec.Calls, ToolCall{Turn: turn, Name: fc.Name, Outcome: "ok"})
	rec.Ending, rec.Title, rec.Rationale = EndSubmitted, clip.Text(strings.TrimSpace(title), 200, truncated), clip.Text(strings.TrimSpace(summary), 8000, truncated)
	return true, nil
}

// generate calls the model, retrying transient failures (ModelAttempts
// tries in all) after the delay the API asks for or a backoff. A failure
// that outlasts the tries, a delay longer than MaxRetryWait, or a retry the
// run's time cannot fit becomes errRequeue: the key waits and runs again,
// and nothing of this run reaches GitHub.
func (l *loop) generate(ctx context.Context, contents []*genai.Content, cfg *genai.GenerateContentConfig) (*genai.GenerateContentResponse, int, error) {
	sent := requestBytes(contents, cfg)
	for attempt := 1; ; attempt++ {
		resp, err := l.call(ctx, contents, cfg)
		if err == nil {
			return resp, sent, nil
		}
		transient, asked := classify(err)
		switch {
		case ctx.Err() != nil && attempt > 1:
			// The run's time ran out while the model kept failing.
			return nil, sent, &errRequeue{err: err, attempts: attempt}
		case ctx.Err() != nil:
			return nil, sent, fmt.Errorf("model call: %w", err)
		case !transient:
			return nil, sent, &errModelCall{err: err}
		}
		wait := asked
		if wait <= 0 {
			wait = backoff(l.budgets.RetryBase, attempt)
		}
		giveUp := attempt >= l.budgets.ModelAttempts || asked > l.budgets.MaxRetryWait
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			giveUp = true // the run's time is up before the retry would happen
		}
		if giveUp {
			return nil, sent, &errRequeue{err: err, attempts: attempt, after: asked}
		}
		l.log.Warn().Err(err).Int("attempt", attempt).Dur("retry_in", wait).Msg("model call failed; retrying")
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, sent, &errRequeue{err: err, attempts: attempt, after: asked}
		}
	}
}

// call makes one model request within CallTimeout. A request that outlasts
// it (while the run still has time) is a transient failure.
func (l *loop) call(ctx context.Context, contents []*genai.Content, cfg *genai.GenerateContentConfig) (*genai.GenerateContentResponse, error) {
	callCtx, cancel := context.WithTimeout(ctx, l.budgets.CallTimeout)
	defer cancel()
	resp, err := l.model.Generate(callCtx, l.name, contents, cfg)
	switch {
	case err != nil && ctx.Err() == nil && errors.Is(callCtx.Err(), context.DeadlineExceeded):
		return nil, &transientError{err: fmt.Errorf("the model did not answer within %s", l.budgets.CallTimeout)}
	case err != nil:
		return nil, err
	case resp == nil:
		return nil, &transientError{err: errors.New("the model returned nothing")}
	}
	return resp, nil
}

// requestBytes estimates the bytes a request sends: the conversation, the
// system prompt and the tool declarations, as JSON.
func requestBytes(contents []*genai.Content, cfg *genai.GenerateContentConfig) int {
	n := 0
	if b, err := json.Marshal(contents); err == nil {
		n += len(b)
	}
	if b, err := json.Marshal(cfg); err == nil {
		n += len(b)
	}
	return n
}

// logTurn writes one debug line per model call.
func (l *loop) logTurn(t Turn) {
	l.log.Debug().Int("turn", t.N).Int64("prompt_tokens", t.PromptTokens).Int64("output_tokens", t.OutputTokens).
		Int("bytes_sent", t.BytesSent).Int("tool_calls", t.Calls).Str("note", t.Note).Msg("model turn")
}
