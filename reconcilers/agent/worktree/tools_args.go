package worktree

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/tend-app/tend/internal/clip"
)

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
			return fmt.Errorf("%s has no argument %q; its arguments are %s", a.tool, clip.Text(k, 64, "…"), strings.Join(names, ", "))
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
		return "", true, fmt.Errorf("argument %q must be a string, not %s", name, JSONType(raw))
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
		return 0, true, fmt.Errorf("argument %q must be a whole number, not %s", name, JSONType(raw))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1e15 {
		return 0, true, fmt.Errorf("argument %q must be a whole number", name)
	}
	return int(f), true, nil
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

// rawPath is the path (or glob, or pattern) the call named, for the trace
// of a call that failed before it was cleaned.
func (a args) rawPath() string {
	for _, k := range []string{"path", "glob", "pattern"} {
		if s, ok := a.m[k].(string); ok {
			q := strconv.Quote(clip.Text(s, maxTraceBytes, "…"))
			return q[1 : len(q)-1]
		}
	}
	return ""
}

// JSONType names the JSON type of a decoded argument ("a number"), for
// messages that tell the model what it sent.
func JSONType(v any) string {
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
