package fakegithub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/tend-app/tend/internal/fixtures"
)

// greedyParams names path parameters that may contain slashes besides those
// GitHub's description marks with "x-multi-segment: true" (file paths, git
// refs, branch and tag names, "base...head", tree SHAs or refs): label
// names, which go-github does not escape. GitHub accepts all of them with
// unescaped slashes, which a segment-based OpenAPI router cannot match; ours
// lets them span segments.
var greedyParams = map[string]bool{
	"name": true,
}

// multiSegment lists the path parameters of a path item marked
// "x-multi-segment" on the item or any of its operations.
func multiSegment(item *openapi3.PathItem) map[string]bool {
	out := map[string]bool{}
	add := func(ps openapi3.Parameters) {
		for _, p := range ps {
			if p == nil || p.Value == nil || p.Value.In != openapi3.ParameterInPath {
				continue
			}
			if v, ok := p.Value.Extensions["x-multi-segment"].(bool); ok && v {
				out[p.Value.Name] = true
			}
		}
	}
	add(item.Parameters)
	for _, op := range item.Operations() {
		add(op.Parameters)
	}
	return out
}

// spec is GitHub's REST description, loaded once per process, with a route
// table built for it.
type spec struct {
	doc     *openapi3.T
	byFirst map[string][]*route // routes by their first (literal) segment
	opts    *openapi3filter.Options
}

type segment struct {
	literal string // the literal text; empty for a parameter
	param   string // the parameter name
	greedy  bool   // the parameter may span several segments
}

type route struct {
	template string
	segs     []segment
	literals int // number of literal segments: more is more specific
	params   int
	item     *openapi3.PathItem
	ops      map[string]*openapi3.Operation // by upper-case method
}

var (
	specOnce sync.Once
	specVal  *spec
	specErr  error
)

// loadSpec loads and indexes GitHub's OpenAPI description the first time it
// is called; every Server in the process shares the result.
func loadSpec() (*spec, error) {
	specOnce.Do(func() {
		specVal, specErr = buildSpec()
	})
	return specVal, specErr
}

func buildSpec() (*spec, error) {
	path, err := fixtures.OpenAPIPath()
	if err != nil {
		return nil, fmt.Errorf("fakegithub: locate GitHub's OpenAPI description: %w", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fakegithub: read GitHub's OpenAPI description: %w", err)
	}
	pruned, err := pruneSpec(raw)
	if err != nil {
		return nil, fmt.Errorf("fakegithub: prune %s: %w", path, err)
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(pruned)
	if err != nil {
		return nil, fmt.Errorf("fakegithub: load %s: %w", path, err)
	}
	// doc.Validate() fails on GitHub's own description; routing and request
	// validation work regardless. The servers are irrelevant: we route by
	// path ourselves.
	doc.Servers = openapi3.Servers{{URL: "/"}}

	sp := &spec{doc: doc, byFirst: map[string][]*route{}}
	for tmpl, item := range doc.Paths.Map() {
		r, ok := parseTemplate(tmpl, multiSegment(item))
		if !ok {
			continue
		}
		r.item = item
		r.ops = item.Operations()
		first := ""
		if len(r.segs) > 0 {
			first = r.segs[0].literal
		}
		sp.byFirst[first] = append(sp.byFirst[first], r)
	}
	for _, rs := range sp.byFirst {
		// Deterministic preference: most specific first.
		sort.Slice(rs, func(i, j int) bool {
			if rs[i].literals != rs[j].literals {
				return rs[i].literals > rs[j].literals
			}
			if rs[i].params != rs[j].params {
				return rs[i].params < rs[j].params
			}
			return rs[i].template < rs[j].template
		})
	}

	opts := &openapi3filter.Options{
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		// A body on an operation that takes none is a violation too.
		RejectWhenRequestBodyNotSpecified: true,
		// We validate a copy; the handlers read the client's bytes.
		SkipSettingDefaults: true,
		MultiError:          false,
	}
	opts.WithCustomSchemaErrorFunc(func(e *openapi3.SchemaError) string {
		ptr := strings.Join(e.JSONPointer(), "/")
		if ptr == "" {
			return e.Reason
		}
		return fmt.Sprintf("at /%s: %s", ptr, e.Reason)
	})
	sp.opts = opts
	return sp, nil
}

// parseTemplate splits an OpenAPI path template into segments. Templates
// with a segment mixing literals and parameters (only the deprecated
// "/compare/{base}...{head}", shadowed by "/compare/{basehead}") are skipped.
func parseTemplate(tmpl string, multi map[string]bool) (*route, bool) {
	r := &route{template: tmpl}
	trimmed := strings.TrimPrefix(tmpl, "/")
	if trimmed == "" {
		return r, true // "/" (meta/root)
	}
	for _, s := range strings.Split(trimmed, "/") {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") && strings.Count(s, "{") == 1 {
			name := s[1 : len(s)-1]
			r.segs = append(r.segs, segment{param: name, greedy: greedyParams[name] || multi[name]})
			r.params++
			continue
		}
		if strings.ContainsAny(s, "{}") {
			return nil, false
		}
		r.segs = append(r.segs, segment{literal: s})
		r.literals++
	}
	if len(r.segs) > 0 && r.segs[0].literal == "" {
		return nil, false
	}
	return r, true
}

func (r *route) greedy(name string) bool {
	for _, sg := range r.segs {
		if sg.param == name {
			return sg.greedy
		}
	}
	return false
}

// match is a routed request: the route, its operation and path parameters.
type match struct {
	route  *route
	method string
	op     *openapi3.Operation
	params map[string]string
}

var (
	errNoRoute  = errors.New("no path in GitHub's REST API matches")
	errNoMethod = errors.New("the path exists in GitHub's REST API, but not with this method")
)

// find routes an escaped request path (as from URL.EscapedPath). Segments are
// split before unescaping, so "%2F" inside a segment and a literal "/" both
// work for the parameters that may hold slashes.
func (sp *spec) find(method, escapedPath string) (*match, error) {
	trimmed := strings.TrimPrefix(escapedPath, "/")
	var raw []string
	if trimmed != "" {
		raw = strings.Split(trimmed, "/")
	}
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, fmt.Errorf("bad escape in path segment %q: %w", s, err)
		}
		segs[i] = u
	}
	first := ""
	if len(segs) > 0 {
		first = segs[0]
	}
	pathMatched := false
	for _, r := range sp.byFirst[first] {
		params, ok := r.match(segs)
		if !ok {
			continue
		}
		pathMatched = true
		op := r.ops[method]
		if op == nil {
			continue
		}
		return &match{route: r, method: method, op: op, params: params}, nil
	}
	if pathMatched {
		return nil, errNoMethod
	}
	return nil, errNoRoute
}

func (r *route) match(segs []string) (map[string]string, bool) {
	if len(r.segs) == 0 {
		return map[string]string{}, len(segs) == 0
	}
	// spans[i] is the [start, end) range of segments template segment i
	// matched; nothing is allocated unless the route matches.
	var buf [16][2]int
	spans := buf[:0]
	if len(r.segs) > len(buf) {
		spans = make([][2]int, 0, len(r.segs))
	}
	spans = spans[:len(r.segs)]
	if !r.matchFrom(0, 0, segs, spans) {
		return nil, false
	}
	params := make(map[string]string, r.params)
	for i, t := range r.segs {
		if t.literal == "" {
			params[t.param] = strings.Join(segs[spans[i][0]:spans[i][1]], "/")
		}
	}
	return params, true
}

func (r *route) matchFrom(ti, pi int, segs []string, spans [][2]int) bool {
	if ti == len(r.segs) {
		return pi == len(segs)
	}
	if pi >= len(segs) {
		return false
	}
	t := r.segs[ti]
	switch {
	case t.literal != "":
		spans[ti] = [2]int{pi, pi + 1}
		return segs[pi] == t.literal && r.matchFrom(ti+1, pi+1, segs, spans)
	case !t.greedy:
		if segs[pi] == "" {
			return false
		}
		spans[ti] = [2]int{pi, pi + 1}
		return r.matchFrom(ti+1, pi+1, segs, spans)
	case ti == len(r.segs)-1:
		// The last parameter takes everything left; it may be empty only
		// as in ".../contents/" (the repository root).
		empty := true
		for _, sg := range segs[pi:] {
			if sg != "" {
				empty = false
				break
			}
		}
		if empty && len(segs)-pi != 1 {
			return false
		}
		spans[ti] = [2]int{pi, len(segs)}
		return true
	default:
		for end := len(segs) - 1; end > pi; end-- {
			spans[ti] = [2]int{pi, end}
			if r.matchFrom(ti+1, end, segs, spans) {
				return true
			}
		}
		return false
	}
}

// validate checks one routed request against its operation. body is the
// request body already read; it is validated from a copy.
func (sp *spec) validate(ctx context.Context, r *http.Request, m *match, body []byte) error {
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	if len(body) > 0 && req.Header.Get("Content-Type") == "" {
		// GitHub parses bodies as JSON whatever the content type says.
		req.Header.Set("Content-Type", "application/json")
	}
	params := m.params
	for name, v := range m.params {
		if v == "" && m.route.greedy(name) {
			// ".../contents/" (the repository root) and
			// ".../matching-refs/" (every ref): GitHub accepts the empty
			// value the description calls required.
			params = maps.Clone(m.params)
			params[name] = "/"
		}
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route: &routers.Route{
			Spec:      sp.doc,
			Server:    sp.doc.Servers[0],
			Path:      m.route.template,
			PathItem:  m.route.item,
			Method:    m.method,
			Operation: m.op,
		},
		Options: sp.opts,
	}
	return openapi3filter.ValidateRequest(ctx, input)
}

// shortError condenses kin-openapi's error text (which can quote whole
// schemas) to its first lines.
func shortError(err error) string {
	msg := err.Error()
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		var parts []string
		if re.Parameter != nil {
			parts = append(parts, fmt.Sprintf("parameter %q in %s", re.Parameter.Name, re.Parameter.In))
		} else if re.RequestBody != nil {
			parts = append(parts, "request body")
		}
		if re.Reason != "" {
			parts = append(parts, re.Reason)
		}
		if re.Err != nil {
			parts = append(parts, re.Err.Error())
		}
		msg = strings.Join(parts, ": ")
	}
	if i := strings.Index(msg, "\nSchema:"); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.ReplaceAll(msg, "\n", " ")
	if len(msg) > 600 {
		msg = msg[:600] + "…"
	}
	return msg
}

// normalizeLabelsBody turns the bare JSON array go-github's
// Issues.AddLabelsToIssue (and ReplaceLabelsForIssue) sends into the
// {"labels": [...]} form the description documents. GitHub accepts both; the
// description only mentions the array form in prose.
func normalizeLabelsBody(body []byte) []byte {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return body
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(trimmed, &arr); err != nil {
		return body
	}
	out, err := json.Marshal(map[string]any{"labels": arr})
	if err != nil {
		return body
	}
	return out
}

// pruneSpec keeps what request validation needs from GitHub's description:
// responses (most of the 13 MB) and prose are dropped, and only the
// components reachable from what is left are kept. Loading the result takes
// a fraction of the time and memory of loading the whole document.
func pruneSpec(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, item := range paths {
		ops, _ := item.(map[string]any)
		for _, op := range ops {
			if o, ok := op.(map[string]any); ok {
				if _, has := o["responses"]; has {
					o["responses"] = map[string]any{"default": map[string]any{"description": "omitted"}}
				}
			}
		}
	}
	stripProse(paths, "")
	components, _ := doc["components"].(map[string]any)
	var queue []string
	collectRefs(paths, &queue)
	kept := map[string]map[string]any{}
	seen := map[string]bool{}
	for len(queue) > 0 {
		ref := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[ref] {
			continue
		}
		seen[ref] = true
		parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
		if len(parts) != 3 || parts[0] != "components" {
			return nil, fmt.Errorf("unexpected $ref %q", ref)
		}
		group, _ := components[parts[1]].(map[string]any)
		target, ok := group[parts[2]]
		if !ok {
			return nil, fmt.Errorf("dangling $ref %q", ref)
		}
		stripProse(target, "")
		collectRefs(target, &queue)
		if kept[parts[1]] == nil {
			kept[parts[1]] = map[string]any{}
		}
		kept[parts[1]][parts[2]] = target
	}
	doc["components"] = kept
	return json.Marshal(doc)
}

func collectRefs(node any, out *[]string) {
	switch v := node.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				*out = append(*out, s)
				continue
			}
			collectRefs(x, out)
		}
	case []any:
		for _, x := range v {
			collectRefs(x, out)
		}
	}
}

// stripProse drops descriptions, summaries, examples of schemas and GitHub's
// x- extensions; not inside "properties", whose keys are field names.
func stripProse(node any, parent string) {
	switch v := node.(type) {
	case map[string]any:
		for k, x := range v {
			if parent != "properties" {
				_, isString := x.(string)
				switch {
				case (k == "description" || k == "summary") && isString,
					k == "example" && parent != "",
					strings.HasPrefix(k, "x-") && k != "x-multi-segment":
					delete(v, k)
					continue
				}
			}
			stripProse(x, k)
		}
	case []any:
		for _, x := range v {
			stripProse(x, parent)
		}
	}
}
