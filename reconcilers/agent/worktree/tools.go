package worktree

import (
	"context"
	"errors"
	"fmt"

	"github.com/tend-app/tend/internal/clip"
	"github.com/tend-app/tend/internal/toolschema"
)

// Tool names.
const (
	ToolListFiles  = "list_files"
	ToolReadFile   = "read_file"
	ToolSearch     = "search"
	ToolWriteFile  = "write_file"
	ToolEditFile   = "edit_file"
	ToolDeleteFile = "delete_file"
)

// Bounds on arguments that are not file content.
const (
	maxGlobBytes    = 1024
	maxPatternBytes = 1024
	maxLineBytes    = 200 // of one search result line
	maxTraceBytes   = 200 // of a trace's Path and Detail
	maxLimitLines   = 1_000_000
)

type tool struct {
	params any      // the struct that declares its arguments (see toolschema)
	args   []string // the argument names params declares, which Call accepts
	run    func(t *Tree, ctx context.Context, a args) (result, error)
}

func newTool(params any, run func(t *Tree, ctx context.Context, a args) (result, error)) tool {
	return tool{params: params, args: toolschema.Names(toolschema.MustOf(params)), run: run}
}

// result is a successful call: the map for the model plus the trace's
// view of it.
type result struct {
	out    map[string]any
	target string
	detail string
}

var tools = map[string]tool{
	ToolListFiles:  newTool(listFilesParams{}, (*Tree).listFiles),
	ToolReadFile:   newTool(readFileParams{}, (*Tree).readFile),
	ToolSearch:     newTool(searchParams{}, (*Tree).search),
	ToolWriteFile:  newTool(writeFileParams{}, writing((*Tree).writeFile)),
	ToolEditFile:   newTool(editFileParams{}, writing((*Tree).editFile)),
	ToolDeleteFile: newTool(pathParam{}, writing((*Tree).deleteFile)),
}

// Handles reports whether name is one of the Tree's tools.
func (t *Tree) Handles(name string) bool {
	_, ok := tools[name]
	return ok
}

// Call runs one tool call and returns the map for
// genai.FunctionResponse.Response: {"output": ...} (read_file adds
// start_line, end_line, total_lines and sometimes note) or {"error":
// "..."} (with "refused": true when the confinement refused the call). Refused and failed calls are results, not Go errors; the Go
// error is reserved for an unknown tool name, a cancelled context and
// failures of the Source (wrapping ErrSource). Every call is recorded in
// the trace.
func (t *Tree) Call(ctx context.Context, name string, callArgs map[string]any) (map[string]any, error) {
	tl, ok := tools[name]
	if !ok {
		return nil, fmt.Errorf("worktree: unknown tool %q", name)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stats.Calls++
	a := args{tool: name, m: callArgs}
	var res result
	err := a.known(tl.args)
	if err == nil {
		res, err = tl.run(t, ctx, a)
	}
	if err == nil {
		t.record(name, res.target, OutcomeOK, res.detail)
		return res.out, nil
	}
	target := res.target
	if target == "" {
		target = a.rawPath()
	}
	if errors.Is(err, ErrSource) || ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.stats.Errors++
		t.record(name, target, OutcomeError, err.Error())
		return nil, fmt.Errorf("worktree: %s: %w", name, err)
	}
	out := map[string]any{"error": err.Error()}
	outcome := OutcomeError
	if IsRefused(err) {
		outcome = OutcomeRefused
		out["refused"] = true
		t.stats.Refused++
	} else {
		t.stats.Errors++
	}
	t.record(name, target, outcome, err.Error())
	return out, nil
}

func (t *Tree) record(name, target, outcome, detail string) {
	t.trace = append(t.trace, Call{Name: name, Path: clip.Text(target, maxTraceBytes, "…"), Outcome: outcome, Detail: clip.Text(detail, maxTraceBytes, "…")})
}
