package worktree

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
	"google.golang.org/genai"
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
	args []string // accepted argument names
	run  func(t *Tree, ctx context.Context, a args) (result, error)
}

// result is a successful call: the map for the model plus the trace's
// view of it.
type result struct {
	out    map[string]any
	target string
	detail string
}

var tools = map[string]tool{
	ToolListFiles:  {args: []string{"path", "glob"}, run: (*Tree).listFiles},
	ToolReadFile:   {args: []string{"path", "offset", "limit"}, run: (*Tree).readFile},
	ToolSearch:     {args: []string{"pattern", "glob"}, run: (*Tree).search},
	ToolWriteFile:  {args: []string{"path", "content"}, run: (*Tree).writeFile},
	ToolEditFile:   {args: []string{"path", "old_text", "new_text"}, run: (*Tree).editFile},
	ToolDeleteFile: {args: []string{"path"}, run: (*Tree).deleteFile},
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
	t.trace = append(t.trace, Call{Name: name, Path: clip(target, maxTraceBytes), Outcome: outcome, Detail: clip(detail, maxTraceBytes)})
}

// clip shortens s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// args reads a call's arguments defensively: the model may send anything.
type args struct {
	tool string
	m    map[string]any
}

func (a args) known(names []string) error {
	for k := range a.m {
		found := false
		for _, n := range names {
			if k == n {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s has no argument %q; its arguments are %s", a.tool, clip(k, 64), strings.Join(names, ", "))
		}
	}
	return nil
}

// str reads a string argument; present is false when it is absent or null.
func (a args) str(name string, maxBytes int) (v string, present bool, err error) {
	raw, ok := a.m[name]
	if !ok || raw == nil {
		return "", false, nil
	}
	s, ok := raw.(string)
	if !ok {
		return "", true, fmt.Errorf("argument %q must be a string, not %s", name, typeName(raw))
	}
	if len(s) > maxBytes {
		return "", true, refusef("argument %q is %d bytes long; the limit is %d", name, len(s), maxBytes)
	}
	return s, true, nil
}

func (a args) required(name string, maxBytes int) (string, error) {
	s, ok, err := a.str(name, maxBytes)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("argument %q is required", name)
	}
	return s, nil
}

// integer reads a whole-number argument. JSON numbers arrive as float64.
func (a args) integer(name string) (v int, present bool, err error) {
	raw, ok := a.m[name]
	if !ok || raw == nil {
		return 0, false, nil
	}
	var f float64
	switch n := raw.(type) {
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		return n, true, nil
	case int64:
		f = float64(n)
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return 0, true, fmt.Errorf("argument %q must be a whole number", name)
		}
		f = float64(i)
	default:
		return 0, true, fmt.Errorf("argument %q must be a whole number, not %s", name, typeName(raw))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1e15 {
		return 0, true, fmt.Errorf("argument %q must be a whole number", name)
	}
	return int(f), true, nil
}

// rawPath is the path (or glob, or pattern) the call named, for the trace
// of a call that failed before it was cleaned.
func (a args) rawPath() string {
	for _, k := range []string{"path", "glob", "pattern"} {
		if s, ok := a.m[k].(string); ok {
			q := strconv.Quote(clip(s, maxTraceBytes))
			return q[1 : len(q)-1]
		}
	}
	return ""
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, float32, int, int64, json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// view returns the current view's paths in order: the starting tree
// without deletions, plus files created in this run.
func (t *Tree) view() []string {
	var added []string
	for p, s := range t.cur {
		if _, inBase := t.base[p]; !inBase && !s.deleted {
			added = append(added, p)
		}
	}
	sort.Strings(added)
	out := make([]string, 0, len(t.order)+len(added))
	i, j := 0, 0
	for i < len(t.order) || j < len(added) {
		if j >= len(added) || (i < len(t.order) && t.order[i] < added[j]) {
			p := t.order[i]
			i++
			if s, ok := t.cur[p]; ok && s.deleted {
				continue
			}
			out = append(out, p)
		} else {
			out = append(out, added[j])
			j++
		}
	}
	return out
}

// glob reads and validates an optional glob argument, joined under dir.
func (a args) glob(dir string) (string, bool, error) {
	g, ok, err := a.str("glob", maxGlobBytes)
	if err != nil || !ok || g == "" {
		return "", false, err
	}
	g = strings.TrimPrefix(g, "./")
	if strings.HasPrefix(g, "/") {
		return "", true, fmt.Errorf("glob %q is absolute; globs are relative to the repository root", g)
	}
	if dir != "" {
		g = dir + "/" + g
	}
	if !doublestar.ValidatePattern(g) {
		return "", true, fmt.Errorf("glob %q is not a valid pattern", g)
	}
	return g, true, nil
}

func describe(e Entry) string {
	switch {
	case e.symlink():
		return " (symbolic link)"
	case e.Mode == ModeSubmodule:
		return " (submodule)"
	}
	return ""
}

func (t *Tree) listFiles(ctx context.Context, a args) (result, error) {
	dir := ""
	p, hasPath, err := a.str("path", maxRawPathBytes)
	if err != nil {
		return result{}, err
	}
	if hasPath && p != "" && p != "." && p != "/" {
		if dir, err = CleanPath(p); err != nil {
			return result{}, err
		}
	}
	g, hasGlob, err := a.glob(dir)
	if err != nil {
		return result{target: g}, err
	}
	limit := t.pol.MaxListResults
	var lines []string
	total := 0
	add := func(s string) {
		total++
		if len(lines) < limit {
			lines = append(lines, s)
		}
	}
	if hasGlob {
		for _, q := range t.view() {
			if ok, _ := doublestar.Match(g, q); ok {
				e, _ := t.lookup(q)
				add(q + describe(e))
			}
		}
	} else {
		if dir != "" && !t.isDir(dir) {
			if e, ok := t.lookup(dir); ok {
				return result{target: dir}, fmt.Errorf("%q is a file%s, not a directory", dir, describe(e))
			}
			return result{target: dir}, t.notFound(dir)
		}
		prefix := ""
		if dir != "" {
			prefix = dir + "/"
		}
		seen := map[string]bool{}
		for _, q := range t.view() {
			if !strings.HasPrefix(q, prefix) {
				continue
			}
			rest := q[len(prefix):]
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				sub := prefix + rest[:i] + "/"
				if !seen[sub] {
					seen[sub] = true
					add(sub)
				}
				continue
			}
			e, _ := t.lookup(q)
			add(q + describe(e))
		}
	}
	target := g
	if !hasGlob {
		target = dir
		if target == "" {
			target = "."
		}
	}
	out := strings.Join(lines, "\n")
	switch {
	case total == 0 && hasGlob:
		out = "no files match " + strconv.Quote(g)
	case total == 0:
		out = "the repository is empty"
	case total > len(lines):
		out += fmt.Sprintf("\n(showing %d of %d entries; use a narrower directory or glob to see the rest)", len(lines), total)
	}
	return result{out: map[string]any{"output": out}, target: target, detail: fmt.Sprintf("%d entries", total)}, nil
}

// textOf returns a file's current content as text, or an error saying why
// it is not readable as text.
func (t *Tree) textOf(ctx context.Context, p string) (string, error) {
	e, ok := t.lookup(p)
	if !ok {
		return "", t.notFound(p)
	}
	switch {
	case e.symlink():
		target, err := t.fetch(ctx, e, budget{limited: true})
		if err != nil {
			return "", err
		}
		return "", fmt.Errorf("%q is a symbolic link to %q; links are not followed (read the target's path instead, if it is in the repository)", p, clip(string(target), 512))
	case e.Mode == ModeSubmodule:
		return "", refusef("%q is a submodule; submodules are neither read nor written", p)
	case !e.regular():
		return "", refusef("%q has mode %s, which tend does not read", p, e.Mode)
	}
	data, err := t.content(ctx, p, budget{limited: true})
	if err != nil {
		return "", err
	}
	if isBinary(data) {
		return "", fmt.Errorf("%q is a binary file (%d bytes); binary files cannot be read or edited", p, len(data))
	}
	if !utf8.Valid(data) {
		return "", fmt.Errorf("%q is not UTF-8 text (%d bytes); it cannot be read or edited", p, len(data))
	}
	return string(data), nil
}

// countLines counts lines the way editors number them: a final line
// without a newline counts, an empty file has none.
func countLines(s string) int {
	n := strings.Count(s, "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

func (t *Tree) readFile(ctx context.Context, a args) (result, error) {
	raw, err := a.required("path", maxRawPathBytes)
	if err != nil {
		return result{}, err
	}
	p, err := CleanPath(raw)
	if err != nil {
		return result{}, err
	}
	res := result{target: p}
	offset, hasOffset, err := a.integer("offset")
	if err != nil {
		return res, err
	}
	if !hasOffset {
		offset = 1
	}
	if offset < 1 {
		return res, errors.New("offset is a 1-based line number and must be at least 1")
	}
	limit, hasLimit, err := a.integer("limit")
	if err != nil {
		return res, err
	}
	if !hasLimit || limit > maxLimitLines {
		limit = maxLimitLines
	}
	if limit < 1 {
		return res, errors.New("limit must be at least 1")
	}
	text, err := t.textOf(ctx, p)
	if err != nil {
		return res, err
	}
	total := countLines(text)
	if total == 0 {
		res.out = map[string]any{"output": "", "total_lines": 0, "note": "the file is empty"}
		res.detail = "empty"
		return res, nil
	}
	if offset > total {
		return res, fmt.Errorf("offset %d is past the end of %q, which has %d lines", offset, p, total)
	}
	// Find the byte where line offset starts.
	start := 0
	for line := 1; line < offset; line++ {
		start += strings.IndexByte(text[start:], '\n') + 1
	}
	var b strings.Builder
	end := offset - 1 // last line fully included
	var note string
	pos := start
	for end < total && end-offset+1 < limit {
		nl := strings.IndexByte(text[pos:], '\n')
		next := len(text)
		if nl >= 0 {
			next = pos + nl + 1
		}
		line := text[pos:next]
		if b.Len()+len(line) > t.pol.MaxReadBytes {
			if b.Len() == 0 {
				// One line longer than a whole answer: show its start.
				b.WriteString(clip(line, t.pol.MaxReadBytes))
				end++
				note = fmt.Sprintf("line %d is %d bytes long; only its first %d bytes are shown", end, len(line), b.Len())
			}
			break
		}
		b.WriteString(line)
		end++
		pos = next
	}
	out := b.String()
	t.stats.BytesRead += int64(len(out))
	res.out = map[string]any{"output": out, "start_line": offset, "end_line": end, "total_lines": total}
	if end < total {
		more := fmt.Sprintf("showing lines %d-%d of %d; call read_file with offset %d to read on", offset, end, total, end+1)
		if note != "" {
			note += "; " + more
		} else {
			note = more
		}
	}
	if note != "" {
		res.out["note"] = note
	}
	res.detail = fmt.Sprintf("lines %d-%d of %d", offset, end, total)
	return res, nil
}

func (t *Tree) search(ctx context.Context, a args) (result, error) {
	pat, err := a.required("pattern", maxPatternBytes)
	if err != nil {
		return result{}, err
	}
	res := result{target: pat}
	if pat == "" {
		return res, errors.New("pattern must not be empty")
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return res, fmt.Errorf("pattern is not a valid Go (RE2) regular expression: %w", err)
	}
	g, hasGlob, err := a.glob("")
	if err != nil {
		return res, err
	}
	if hasGlob {
		res.target = g + " " + pat
	}
	var (
		lines          []string
		matches, files int
		scanned        int64
		fetches        int // files this call read from the Source
		binary, large  int
		stopped        string
		limit          = t.pol.MaxSearchResults
		maxScan        = int64(t.pol.MaxSearchBytes)
		maxFile        = int64(t.pol.MaxFileBytes)
	)
	// needsFetch reports whether reading e costs a request.
	needsFetch := func(e Entry) bool {
		if _, ok := t.cur[e.Path]; ok {
			return false
		}
		key := e.SHA
		if key == "" {
			key = "path:" + e.Path
		}
		_, cached := t.blobs[key]
		return !cached
	}
scan:
	for _, q := range t.view() {
		if hasGlob {
			if ok, _ := doublestar.Match(g, q); !ok {
				continue
			}
		}
		e, _ := t.lookup(q)
		e.Path = q
		if !e.regular() {
			continue
		}
		if e.Size > maxFile {
			large++
			continue
		}
		if needsFetch(e) {
			if fetches >= t.pol.MaxSearchFetches {
				stopped = fmt.Sprintf("stopped after reading %d files from the repository, the limit for one search; use a narrower glob", fetches)
				break
			}
			fetches++
		}
		if scanned+e.Size > maxScan {
			stopped = fmt.Sprintf("stopped after scanning %d bytes, the limit for one search; use a narrower glob", scanned)
			break
		}
		data, err := t.content(ctx, q, budget{limited: true})
		if err != nil {
			if IsRefused(err) {
				stopped = "stopped: " + err.Error()
				break
			}
			return res, err
		}
		if int64(len(data)) > maxFile {
			large++
			continue
		}
		if isBinary(data) || !utf8.Valid(data) {
			binary++
			continue
		}
		files++
		scanned += int64(len(data))
		text := string(data)
		for n := 1; text != ""; n++ {
			line := text
			if i := strings.IndexByte(text, '\n'); i >= 0 {
				line, text = text[:i], text[i+1:]
			} else {
				text = ""
			}
			line = strings.TrimSuffix(line, "\r")
			if !re.MatchString(line) {
				continue
			}
			matches++
			if matches > limit {
				stopped = fmt.Sprintf("showing the first %d matches; use a narrower pattern or glob to see others", limit)
				matches = limit
				break scan
			}
			lines = append(lines, fmt.Sprintf("%s:%d: %s", q, n, clip(line, maxLineBytes)))
		}
	}
	out := strings.Join(lines, "\n")
	if matches == 0 {
		out = "no matches"
	}
	var notes []string
	if stopped != "" {
		notes = append(notes, stopped)
	}
	if binary > 0 {
		notes = append(notes, fmt.Sprintf("skipped %d binary or non-UTF-8 files", binary))
	}
	if large > 0 {
		notes = append(notes, fmt.Sprintf("skipped %d files over %d bytes", large, maxFile))
	}
	if len(notes) > 0 {
		out += "\n(" + strings.Join(notes, "; ") + ")"
	}
	t.stats.BytesRead += int64(len(out))
	res.out = map[string]any{"output": out}
	res.detail = fmt.Sprintf("%d matches in %d files", matches, files)
	return res, nil
}

// writable cleans a path argument and runs every write check on it.
func (t *Tree) writable(a args) (string, error) {
	raw, err := a.required("path", maxRawPathBytes)
	if err != nil {
		return "", err
	}
	p, err := CleanPath(raw)
	if err != nil {
		return "", err
	}
	if err := t.pol.MayWrite(p); err != nil {
		return p, err
	}
	if err := t.structural(p); err != nil {
		return p, err
	}
	// Changing a file needs its base content for the change set; files
	// too large to fetch are left alone.
	if e, ok := t.base[p]; ok && e.Size > int64(t.pol.MaxSourceFileBytes) {
		return p, refusef("%q is %d bytes; files over %d bytes are not changed", p, e.Size, t.pol.MaxSourceFileBytes)
	}
	return p, nil
}

func (t *Tree) writeFile(ctx context.Context, a args) (result, error) {
	p, err := t.writable(a)
	res := result{target: p}
	if err != nil {
		return res, err
	}
	content, present, err := a.str("content", t.pol.MaxFileBytes)
	if err != nil {
		return res, err
	}
	if !present {
		return res, errors.New("argument \"content\" is required (use an empty string for an empty file)")
	}
	verb := "created"
	if t.exists(p) {
		verb = "replaced"
	}
	_, wasChanged := t.cur[p]
	if err := t.commit(ctx, p, &state{data: []byte(content)}); err != nil {
		return res, err
	}
	if _, changed := t.cur[p]; !changed {
		verb = "unchanged (same as the original)"
		if wasChanged {
			verb = "restored to its original content"
		}
	}
	t.stats.BytesWritten += int64(len(content))
	res.out = map[string]any{"output": fmt.Sprintf("%s %s (%d bytes, %d lines)", verb, p, len(content), countLines(content))}
	res.detail = fmt.Sprintf("%s, %d bytes", verb, len(content))
	return res, nil
}

func (t *Tree) editFile(ctx context.Context, a args) (result, error) {
	p, err := t.writable(a)
	res := result{target: p}
	if err != nil {
		return res, err
	}
	oldText, err := a.required("old_text", t.pol.MaxFileBytes)
	if err != nil {
		return res, err
	}
	newText, err := a.required("new_text", t.pol.MaxFileBytes)
	if err != nil {
		return res, err
	}
	if oldText == "" {
		return res, errors.New("old_text must not be empty; use write_file to create or replace a whole file")
	}
	if oldText == newText {
		return res, errors.New("old_text and new_text are the same; nothing would change")
	}
	text, err := t.textOf(ctx, p)
	if err != nil {
		return res, err
	}
	switch n := strings.Count(text, oldText); n {
	case 0:
		hint := "read the file again and copy the text exactly, including whitespace and indentation"
		if strings.Contains(text, "\r\n") && !strings.Contains(oldText, "\r") && strings.Contains(oldText, "\n") {
			hint = "the file has CRLF (\\r\\n) line endings; include the \\r in old_text"
		}
		return res, fmt.Errorf("old_text was not found in %q; %s", p, hint)
	case 1:
	default:
		return res, fmt.Errorf("old_text matches %d places in %q; include more surrounding lines so that it matches exactly one", n, p)
	}
	i := strings.Index(text, oldText)
	updated := text[:i] + newText + text[i+len(oldText):]
	if err := t.commit(ctx, p, &state{data: []byte(updated)}); err != nil {
		return res, err
	}
	t.stats.BytesWritten += int64(len(newText))
	first := countLines(text[:i]) + 1
	if i > 0 && !strings.HasSuffix(text[:i], "\n") {
		first-- // the edit starts inside a line already counted
	}
	last := first + strings.Count(newText, "\n")
	if strings.HasSuffix(newText, "\n") && last > first {
		last--
	}
	res.out = map[string]any{"output": fmt.Sprintf("edited %s: replaced 1 occurrence; the new text is at lines %d-%d of %d", p, first, last, countLines(updated))}
	res.detail = fmt.Sprintf("lines %d-%d", first, last)
	return res, nil
}

func (t *Tree) deleteFile(ctx context.Context, a args) (result, error) {
	p, err := t.writable(a)
	res := result{target: p}
	if err != nil {
		return res, err
	}
	if !t.exists(p) {
		return res, t.notFound(p)
	}
	if err := t.commit(ctx, p, &state{deleted: true}); err != nil {
		return res, err
	}
	res.out = map[string]any{"output": "deleted " + p}
	res.detail = "deleted"
	return res, nil
}

// Declarations returns the six file tools for genai.Tool.FunctionDeclarations.
// The descriptions name the run's writable paths so the model need not
// discover them by trial.
func (t *Tree) Declarations() []*genai.FunctionDeclaration {
	str := func(desc string) *genai.Schema { return &genai.Schema{Type: genai.TypeString, Description: desc} }
	integer := func(desc string) *genai.Schema { return &genai.Schema{Type: genai.TypeInteger, Description: desc} }
	obj := func(required []string, order []string, props map[string]*genai.Schema) *genai.Schema {
		return &genai.Schema{Type: genai.TypeObject, Properties: props, Required: required, PropertyOrdering: order}
	}
	pathDesc := "File path relative to the repository root, with / separators (e.g. \"docs/intro.md\"). No leading /, no \"..\"."
	writable := t.writableDescription()
	return []*genai.FunctionDeclaration{
		{
			Name: ToolListFiles,
			Description: fmt.Sprintf("List files in the repository (as it stands in this run, including your own writes). "+
				"With path: the entries directly inside that directory (subdirectories end in /); no path means the repository root. "+
				"With glob: every file matching the glob (doublestar syntax: * stays within a directory, ** crosses directories, e.g. \"**/*.go\" or \"docs/**/*.md\"); "+
				"given both, the glob is relative to path. Returns one path per line, at most %d; symbolic links and submodules are marked.", t.pol.MaxListResults),
			Parameters: obj(nil, []string{"path", "glob"}, map[string]*genai.Schema{
				"path": str("Directory relative to the repository root. Optional; default: the root."),
				"glob": str("Glob pattern to match file paths against. Optional."),
			}),
		},
		{
			Name: ToolReadFile,
			Description: fmt.Sprintf("Read a text file. Returns the file's exact text in \"output\" (no line numbers added), "+
				"with start_line, end_line and total_lines; at most %d bytes per call, and a note says how to continue when there is more. "+
				"Use offset and limit to read part of a large file. Binary files, symbolic links and submodules cannot be read.", t.pol.MaxReadBytes),
			Parameters: obj([]string{"path"}, []string{"path", "offset", "limit"}, map[string]*genai.Schema{
				"path":   str(pathDesc),
				"offset": integer("First line to return, 1-based. Optional; default 1."),
				"limit":  integer("Maximum number of lines to return. Optional; default: as many as fit."),
			}),
		},
		{
			Name: ToolSearch,
			Description: fmt.Sprintf("Search file contents with a regular expression (Go RE2 syntax, matched against each line; prefix (?i) to ignore case). "+
				"Returns matching lines as \"path:line: text\", at most %d, long lines shortened. Binary files and files over %d bytes are skipped. "+
				"Restrict the files with glob to search faster and wider.", t.pol.MaxSearchResults, t.pol.MaxFileBytes),
			Parameters: obj([]string{"pattern"}, []string{"pattern", "glob"}, map[string]*genai.Schema{
				"pattern": str("Regular expression, e.g. \"func [A-Z]\\\\w*\\\\(\" or \"(?i)todo\"."),
				"glob":    str("Only search files whose path matches this glob (doublestar syntax, e.g. \"**/*.yaml\"). Optional."),
			}),
		},
		{
			Name: ToolWriteFile,
			Description: fmt.Sprintf("Create a file or replace its whole content. Prefer edit_file for changing part of an existing file. "+
				"%s At most %d bytes per file and %d changed files in total.", writable, t.pol.MaxFileBytes, t.pol.MaxFiles),
			Parameters: obj([]string{"path", "content"}, []string{"path", "content"}, map[string]*genai.Schema{
				"path":    str(pathDesc),
				"content": str("The complete new content of the file."),
			}),
		},
		{
			Name: ToolEditFile,
			Description: "Replace one exact piece of text in an existing file. old_text must appear exactly once in the file, " +
				"character for character including whitespace and indentation (copy it from read_file's output); include enough surrounding lines to make it unique. " +
				"To make several changes, call edit_file several times. " + writable,
			Parameters: obj([]string{"path", "old_text", "new_text"}, []string{"path", "old_text", "new_text"}, map[string]*genai.Schema{
				"path":     str(pathDesc),
				"old_text": str("The exact text to replace; must occur exactly once."),
				"new_text": str("The text to put in its place (may be empty to remove old_text)."),
			}),
		},
		{
			Name:        ToolDeleteFile,
			Description: "Delete a file. " + writable,
			Parameters: obj([]string{"path"}, []string{"path"}, map[string]*genai.Schema{
				"path": str(pathDesc),
			}),
		},
	}
}

// writableDescription says in a sentence which paths the run may write.
func (t *Tree) writableDescription() string {
	switch {
	case len(t.pol.Edits) > 0:
		s := "You may only write paths matching these globs: " + strings.Join(quoteAll(t.pol.Edits), ", ") + "."
		if WorkflowsAllowed(t.pol.Edits) {
			return s
		}
		return s + " Nothing under .github/workflows."
	case t.pol.KeyPath != "":
		return fmt.Sprintf("You may only write %q.", t.pol.KeyPath)
	}
	return "This run may not write any file."
}
