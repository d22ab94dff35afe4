package worktree

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"
)

// Check is the acceptance gate, run when the agent submits. It returns the
// problems that keep the change set from a branch (none: accepted), each
// naming the file, in words that can go back to the model: every changed
// path is re-checked against the policy and against links and submodules
// in the starting tree (defence in depth: the tools already refused these),
// the size limits hold, and changed YAML (every document), JSON and TOML
// files parse. A file that existed before the run and did not parse then
// is not held to parsing now: JSON with comments (tsconfig.json) and
// templated YAML (Helm charts) are common and not the agent's doing.
//
// When the Source fails while Check reads base contents, that is a
// problem too: nothing unchecked may pass.
func (t *Tree) Check(ctx context.Context) []string {
	return t.CheckWith(ctx, t.pol)
}

// CheckWith is Check under another policy: a caller that narrows the
// policy after the run (a rule's edits changed meanwhile) re-checks the
// same change set against the new one. Zero limits take the defaults.
func (t *Tree) CheckWith(ctx context.Context, pol Policy) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	pol = pol.withDefaults()
	files, err := t.changes(ctx)
	if err != nil {
		return []string{fmt.Sprintf("tend could not read the repository to check the changes (%v); submit again later", err)}
	}
	var problems []string
	if len(files) > pol.MaxFiles {
		problems = append(problems, fmt.Sprintf("%d files changed; the limit is %d", len(files), pol.MaxFiles))
	}
	var total int64
	for _, f := range files {
		if err := pol.MayWrite(f.Path); err != nil {
			problems = append(problems, fmt.Sprintf("%s: may not be changed: %v", f.Path, err))
			continue
		}
		if err := t.baseShape(f.Path); err != nil {
			problems = append(problems, fmt.Sprintf("%s: may not be changed: %v", f.Path, err))
			continue
		}
		if f.Delete {
			continue
		}
		total += int64(len(f.Desired))
		if len(f.Desired) > pol.MaxFileBytes {
			problems = append(problems, fmt.Sprintf("%s: %d bytes; the limit per file is %d", f.Path, len(f.Desired), pol.MaxFileBytes))
			continue
		}
		if f.BaseExists && syntaxError(f.Path, f.Base) != nil {
			continue // it did not parse before either
		}
		if err := syntaxError(f.Path, f.Desired); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", f.Path, err))
		}
	}
	if total > int64(pol.MaxTotalBytes) {
		problems = append(problems, fmt.Sprintf("the changed files total %d bytes; the limit is %d", total, pol.MaxTotalBytes))
	}
	return problems
}

// baseShape refuses a path that is, or lies under, a symbolic link or
// submodule of the starting tree.
func (t *Tree) baseShape(p string) error {
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		e, ok := t.base[p[:i]]
		switch {
		case !ok:
		case e.symlink():
			return refusef("%q is a symbolic link", p[:i])
		case e.Mode == ModeSubmodule:
			return refusef("%q is a submodule", p[:i])
		case !e.regular():
			return refusef("%q has mode %s", p[:i], e.Mode)
		}
	}
	return nil
}

// syntaxError parses data by the file's extension (YAML, JSON, TOML; case
// insensitive) and returns the parser's complaint, with its line.
func syntaxError(file string, data []byte) error {
	switch strings.ToLower(path.Ext(file)) {
	case ".yaml", ".yml":
		return yamlError(data)
	case ".json":
		return jsonError(data)
	case ".toml":
		return tomlError(data)
	}
	return nil
}

// yamlError decodes every document of a YAML stream. Decoding into a
// value (not a yaml.Node) also catches duplicate mapping keys. Line
// numbers in yaml.v3's messages count from the start of the stream.
func yamlError(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 1; ; doc++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("invalid YAML in document %d: %s", doc, fixYAMLLine(err.Error()))
		}
	}
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserProblems are the messages of yaml.v3's parser (as opposed to
// its scanner). For these, v3.0.5 reports a 0-based line number (the
// scanner's get the +1); see parser.fail in its decode.go. The line is
// that of the construct being parsed (the mapping or flow sequence that
// is not closed), which is where a reader should look.
var yamlParserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// fixYAMLLine corrects the line number of a yaml.v3 parser error to be
// 1-based like every other line number tend reports.
func fixYAMLLine(msg string) string {
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil || !yamlParserProblems[m[2]] {
		return msg
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return msg
	}
	return fmt.Sprintf("yaml: line %d: %s", n+1, m[2])
}

// jsonError validates one JSON value and turns a syntax error's byte
// offset into a line and column.
func jsonError(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		// One value only: anything but whitespace after it is an error.
		off := dec.InputOffset()
		if _, err2 := dec.Token(); !errors.Is(err2, io.EOF) {
			for off < int64(len(data)) && strings.IndexByte(" \t\r\n", data[off]) >= 0 {
				off++
			}
			line, col := lineCol(data, off)
			return fmt.Errorf("invalid JSON: line %d, column %d: unexpected data after the top-level value", line, col)
		}
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Offset counts the bytes read, including the offending one.
		line, col := lineCol(data, se.Offset-1)
		return fmt.Errorf("invalid JSON: line %d, column %d: %s", line, col, se.Error())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		line, col := lineCol(data, int64(len(data)))
		return fmt.Errorf("invalid JSON: line %d, column %d: unexpected end of input", line, col)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// tomlError decodes a TOML document; BurntSushi's messages carry the line.
func tomlError(data []byte) error {
	var v map[string]any
	if _, err := toml.Decode(string(data), &v); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("invalid TOML: line %d: %s", pe.Position.Line, pe.Message)
		}
		return fmt.Errorf("invalid TOML: %w", err)
	}
	return nil
}
