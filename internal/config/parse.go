package config

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"go.yaml.in/yaml/v3"

	"github.com/tend-app/tend/internal/keys"
)

// maxNodes bounds how many YAML nodes the parser visits, counting each visit
// through an alias, so that anchors and aliases cannot make a small file
// expensive to read.
const maxNodes = 20000

var (
	repoFullNameRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)
	yamlLineRE     = regexp.MustCompile(`line (\d+)`)
)

// Parse reads and validates a config file. file names it in error messages.
// On failure the error is an Errors value listing every problem found.
func Parse(file string, data []byte) (*Config, error) {
	p := &parser{file: file}
	cfg := p.parse(data)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return cfg, nil
}

type parser struct {
	file  string
	errs  Errors
	nodes int
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	e := Error{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

func (p *parser) parse(data []byte) *Config {
	if len(data) > MaxFileSize {
		p.errorf(nil, "file is %d bytes, the limit is %d", len(data), MaxFileSize)
		return nil
	}
	if strings.TrimSpace(string(data)) == "" {
		p.errorf(nil, "file is empty; it needs at least \"version: 1\" and \"rules\"")
		return nil
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		p.yamlError(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			p.yamlError(err)
		} else {
			p.errorf(&extra, "the file holds more than one YAML document; tend reads exactly one")
		}
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	cfg := &Config{
		PullRequests: PullRequests{Limit: DefaultOpenPRLimit, Labels: []string{DefaultLabel}},
	}
	var sawVersion, sawRules bool
	p.mapping(root, "the top level", []string{"version", "pull_requests", "rules"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "version":
			sawVersion = true
			if n, ok := p.int(v, "version"); ok {
				if n != currentSchemaVersion {
					p.errorf(v, "unsupported version %d; this tend reads version %d", n, currentSchemaVersion)
				}
				cfg.Version = n
			}
		case "pull_requests":
			p.pullRequests(v, &cfg.PullRequests)
		case "rules":
			sawRules = true
			cfg.Rules = p.rules(v)
		}
	})
	if root.Kind == yaml.MappingNode {
		if !sawVersion {
			p.errorf(root, "missing \"version: 1\"")
		}
		if !sawRules {
			p.errorf(root, "missing \"rules\"")
		}
	}
	return cfg
}

// yamlError turns a syntax error from the YAML library into a positioned
// Error. The library reports lines but not columns.
func (p *parser) yamlError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := Error{File: p.file, Msg: "invalid YAML: " + msg}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "invalid YAML: " + strings.TrimPrefix(strings.Replace(msg, m[0], "", 1), ": ")
	}
	p.errs = append(p.errs, e)
}

// resolve follows aliases and charges the node budget.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 10 {
			p.errorf(n, "aliases nest too deeply")
			return nil
		}
		n = n.Alias
	}
	p.nodes++
	if p.nodes == maxNodes+1 {
		p.errorf(n, "the file is too complex (more than %d YAML nodes once aliases are expanded)", maxNodes)
	}
	if p.nodes > maxNodes {
		return nil
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unexpected value"
}

func (p *parser) mapping(n *yaml.Node, what string, allowed []string, field func(key string, k, v *yaml.Node)) {
	if n = p.resolve(n); n == nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, found %s", what, kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			p.errorf(k, "%s: keys must be plain names (merge keys are not supported)", what)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.errorf(k, "%s: %q is already set on line %d", what, k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		if !slices.Contains(allowed, k.Value) {
			p.errorf(k, "%s: unknown field %q (known fields: %s)", what, k.Value, strings.Join(allowed, ", "))
			continue
		}
		field(k.Value, k, v)
	}
}

func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n = p.resolve(n); n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s must be a string, found %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) int(n *yaml.Node, what string) (int, bool) {
	if n = p.resolve(n); n == nil {
		return 0, false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errorf(n, "%s must be a whole number, found %s", what, kindName(n))
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		p.errorf(n, "%s: %q is not a whole number", what, n.Value)
		return 0, false
	}
	return v, true
}

func (p *parser) bool(n *yaml.Node, what string) (bool, bool) {
	if n = p.resolve(n); n == nil {
		return false, false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errorf(n, "%s must be true or false, found %s", what, kindName(n))
		return false, false
	}
	return n.Value == "true" || n.Value == "True" || n.Value == "TRUE", true
}

// strings reads a list of strings; a single string is accepted as a list of one.
func (p *parser) strings(n *yaml.Node, what string, each func(s string, n *yaml.Node)) {
	if n = p.resolve(n); n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		each(n.Value, n)
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list of strings, found %s", what, kindName(n))
		return
	}
	for _, item := range n.Content {
		item := p.resolve(item)
		if item == nil {
			return
		}
		if item.Kind != yaml.ScalarNode || item.Tag != "!!str" {
			p.errorf(item, "%s: each entry must be a string, found %s", what, kindName(item))
			continue
		}
		each(item.Value, item)
	}
}

func (p *parser) pullRequests(n *yaml.Node, pr *PullRequests) {
	p.mapping(n, "pull_requests", []string{"limit", "labels"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "limit":
			if l, ok := p.int(v, "pull_requests.limit"); ok {
				if l < 1 || l > MaxOpenPRLimit {
					p.errorf(v, "pull_requests.limit must be between 1 and %d, found %d", MaxOpenPRLimit, l)
				}
				pr.Limit = l
			}
		case "labels":
			pr.Labels = []string{}
			p.strings(v, "pull_requests.labels", func(s string, n *yaml.Node) {
				switch {
				case strings.TrimSpace(s) == "":
					p.errorf(n, "pull_requests.labels: empty label")
				case len(s) > maxLabelLen:
					p.errorf(n, "pull_requests.labels: %q is longer than %d characters", s, maxLabelLen)
				case slices.Contains(pr.Labels, s):
					p.errorf(n, "pull_requests.labels: %q is listed twice", s)
				default:
					pr.Labels = append(pr.Labels, s)
				}
			})
			if len(pr.Labels) > maxLabels {
				p.errorf(v, "pull_requests.labels: at most %d labels", maxLabels)
			}
		}
	})
}

func (p *parser) rules(n *yaml.Node) []Rule {
	if n = p.resolve(n); n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "rules must be a list, found %s", kindName(n))
		return nil
	}
	if len(n.Content) > maxRules {
		p.errorf(n, "at most %d rules", maxRules)
		return nil
	}
	var out []Rule
	names := map[string]int{}
	for i, item := range n.Content {
		r, ok := p.rule(item, i)
		// Names are checked for rules with other problems too, so that
		// one run of validate reports every problem.
		if keys.RuleNameRE.MatchString(r.Name) {
			if line, dup := names[r.Name]; dup {
				p.errorf(item, "rule %q is already defined on line %d", r.Name, line)
				continue
			}
			names[r.Name] = r.Line
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

var ruleFields = []string{"name", "reconciler", "paths", "prompt", "edits", "ci_rounds", "update", "ignore", "on"}

// rule parses one item of "rules". It reports false when the item has
// errors (recorded in p).
func (p *parser) rule(n *yaml.Node, index int) (Rule, bool) {
	n = p.resolve(n)
	if n == nil {
		return Rule{}, false
	}
	r := Rule{Line: n.Line, CIRounds: DefaultCIRounds, Update: UpdateDigest, On: Triggers{Push: true, Resync: DefaultResync}}
	errsBefore := len(p.errs)
	what := ruleLabel(n, index)
	var fields ruleNodes
	p.mapping(n, what, ruleFields, func(key string, k, v *yaml.Node) {
		p.ruleField(&r, &fields, key, k, v, what)
	})
	if n.Kind != yaml.MappingNode {
		return Rule{}, false
	}
	if fields.name == nil {
		p.errorf(n, "%s: missing \"name\"", what)
	}
	if fields.reconciler == nil {
		p.errorf(n, "%s: missing \"reconciler\" (one of: %s)", what, strings.Join(Reconcilers, ", "))
	}
	if r.Paths == nil && len(p.errs) == errsBefore {
		p.errorf(n, "%s: missing \"paths\"", what)
	}
	p.reconcilerFields(n, r.Reconciler, fields, what)
	return r, len(p.errs) == errsBefore
}

// ruleLabel names a rule in messages: by its name when it has a valid one,
// even in messages about fields before "name", else by its index.
func ruleLabel(n *yaml.Node, index int) string {
	what := fmt.Sprintf("rules[%d]", index)
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode && keys.RuleNameRE.MatchString(n.Content[i+1].Value) {
				what = fmt.Sprintf("rule %q", n.Content[i+1].Value)
			}
		}
	}
	return what
}

// ruleNodes are the nodes of a rule's fields whose presence later checks
// need (nil when absent).
type ruleNodes struct {
	name, reconciler, prompt, edits, issues, ciRounds *yaml.Node
	imagesOnly                                        []*yaml.Node // keys only the images reconciler reads
}

// ruleField parses the field key of a rule into r.
func (p *parser) ruleField(r *Rule, fields *ruleNodes, key string, k, v *yaml.Node, what string) {
	switch key {
	case "name":
		fields.name = v
		if s, ok := p.str(v, what+".name"); ok {
			if !keys.RuleNameRE.MatchString(s) {
				p.errorf(v, "%s.name %q must match [a-z0-9-]+ (at most 63 characters, starting with a letter or digit)", what, s)
			} else if s == keys.ConfigRule {
				p.errorf(v, "%s.name %q is reserved for tend's own config check", what, s)
			}
			r.Name = s
		}
	case "reconciler":
		fields.reconciler = v
		if s, ok := p.str(v, what+".reconciler"); ok {
			if !slices.Contains(Reconcilers, s) {
				p.errorf(v, "%s: unknown reconciler %q (known: %s)", what, s, strings.Join(Reconcilers, ", "))
			}
			r.Reconciler = s
		}
	case "paths":
		r.Paths = p.globs(v, what+".paths")
	case "prompt":
		fields.prompt = v
		if s, ok := p.str(v, what+".prompt"); ok {
			if strings.TrimSpace(s) == "" {
				p.errorf(v, "%s: prompt is empty", what)
			}
			if len(s) > maxPromptBytes {
				p.errorf(v, "%s: prompt is %d bytes, the limit is %d", what, len(s), maxPromptBytes)
			}
			r.Prompt = s
		}
	case "edits":
		fields.edits = v
		r.Edits = p.globs(v, what+".edits")
	case "ci_rounds":
		fields.ciRounds = v
		r.CIRounds = p.ciRounds(v, what)
	case "update":
		fields.imagesOnly = append(fields.imagesOnly, k)
		if s, ok := p.str(v, what+".update"); ok {
			if !slices.Contains(UpdateModes, s) {
				p.errorf(v, "%s.update: unknown value %q (known: %s)", what, s, strings.Join(UpdateModes, ", "))
			}
			r.Update = s
		}
	case "ignore":
		fields.imagesOnly = append(fields.imagesOnly, k)
		r.Ignore = p.imageGlobs(v, what+".ignore")
	case "on":
		fields.issues = p.triggers(v, what, &r.On)
	}
}

// reconcilerFields checks the fields that only one reconciler reads: the
// agent needs a prompt (and edits to answer issues) and takes no update or
// ignore; images takes neither prompt nor edits.
func (p *parser) reconcilerFields(n *yaml.Node, reconciler string, fields ruleNodes, what string) {
	switch reconciler {
	case ReconcilerAgent:
		if fields.prompt == nil {
			p.errorf(n, "%s: the agent reconciler needs a \"prompt\" describing the desired state", what)
		}
		if fields.issues != nil && fields.edits == nil {
			p.errorf(fields.issues, "%s: issue requests need \"edits\": the globs the agent may write when answering an issue", what)
		}
		for _, k := range fields.imagesOnly {
			p.errorf(k, "%s: %q is only read by the images reconciler", what, k.Value)
		}
	case ReconcilerImages:
		if fields.prompt != nil {
			p.errorf(fields.prompt, "%s: \"prompt\" is only read by the agent reconciler", what)
		}
		if fields.edits != nil {
			p.errorf(fields.edits, "%s: \"edits\" is only read by the agent reconciler", what)
		}
		if fields.issues != nil {
			p.errorf(fields.issues, "%s: issue requests need the agent reconciler", what)
		}
		if fields.ciRounds != nil {
			p.errorf(fields.ciRounds, "%s: \"ci_rounds\" is only read by the agent reconciler (images rules never loop on CI)", what)
		}
	}
}

// ciRounds reads a rule's ci_rounds: how many CI feedback rounds the agent
// gets per PR.
func (p *parser) ciRounds(n *yaml.Node, what string) int {
	v, ok := p.int(n, what+".ci_rounds")
	if !ok {
		return DefaultCIRounds
	}
	if v < 0 || v > MaxCIRounds {
		p.errorf(n, "%s.ci_rounds must be between 0 and %d, found %d", what, MaxCIRounds, v)
		return DefaultCIRounds
	}
	return v
}

func (p *parser) globs(n *yaml.Node, what string) []string {
	out := []string{}
	p.strings(n, what, func(s string, n *yaml.Node) {
		if err := validateGlob(s); err != nil {
			p.errorf(n, "%s: %v", what, err)
			return
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	})
	if len(out) > maxGlobsPerRule {
		p.errorf(n, "%s: at most %d globs", what, maxGlobsPerRule)
	}
	if len(out) == 0 {
		if rn := p.resolve(n); rn != nil && rn.Kind == yaml.SequenceNode && len(rn.Content) == 0 {
			p.errorf(n, "%s: the list is empty", what)
		}
	}
	return out
}

// imageGlobs reads a list of image names or globs such as "nginx",
// "docker.io/library/*" or "ghcr.io/acme/**".
func (p *parser) imageGlobs(n *yaml.Node, what string) []string {
	out := []string{}
	p.strings(n, what, func(s string, n *yaml.Node) {
		switch {
		case strings.TrimSpace(s) == "" || s != strings.TrimSpace(s):
			p.errorf(n, "%s: %q must be an image name or glob without spaces around it", what, s)
		case strings.ContainsAny(s, "@ \t\x00\\"):
			p.errorf(n, "%s: %q must be an image name or glob, without a digest or spaces", what, s)
		case !doublestar.ValidatePattern(s):
			p.errorf(n, "%s: %q is not a valid glob", what, s)
		case !slices.Contains(out, s):
			out = append(out, s)
		}
	})
	if len(out) > maxIgnores {
		p.errorf(n, "%s: at most %d entries", what, maxIgnores)
	}
	return out
}

// validateGlob accepts doublestar patterns relative to the repository root
// that cannot reach outside it or into .git.
func validateGlob(g string) error {
	switch {
	case strings.TrimSpace(g) == "":
		return errors.New("empty glob")
	case strings.HasPrefix(g, "/"):
		return fmt.Errorf("glob %q must be relative to the repository root (drop the leading /)", g)
	case strings.ContainsAny(g, "\\\x00"):
		return fmt.Errorf("glob %q may not contain backslashes or NUL", g)
	case !doublestar.ValidatePattern(g):
		return fmt.Errorf("glob %q is not a valid pattern", g)
	}
	for _, seg := range strings.Split(g, "/") {
		switch {
		case seg == "" || seg == "." || seg == "..":
			return fmt.Errorf("glob %q must be a clean path (no empty, \".\" or \"..\" segments)", g)
		case strings.EqualFold(seg, ".git"):
			return fmt.Errorf("glob %q points into .git", g)
		}
	}
	return nil
}

// triggers reads a rule's "on" block. It returns the issues node, if any, so
// the rule can check that its reconciler supports issue requests.
func (p *parser) triggers(n *yaml.Node, what string, t *Triggers) (issues *yaml.Node) {
	p.mapping(n, what+".on", []string{"push", "resync", "release", "issues"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "push":
			if b, ok := p.bool(v, what+".on.push"); ok {
				t.Push = b
			}
		case "resync":
			t.Resync = p.resync(v, what)
		case "release":
			t.Release = []string{}
			p.strings(v, what+".on.release", func(s string, n *yaml.Node) {
				if s != ReleaseSelf && !repoFullNameRE.MatchString(s) {
					p.errorf(n, "%s.on.release: %q must be \"self\" or owner/name", what, s)
					return
				}
				if s != ReleaseSelf {
					s = strings.ToLower(s)
				}
				if !slices.Contains(t.Release, s) {
					t.Release = append(t.Release, s)
				}
			})
			if len(t.Release) > maxReleaseSources {
				p.errorf(v, "%s.on.release: at most %d repositories", what, maxReleaseSources)
			}
		case "issues":
			issues = v
			p.mapping(v, what+".on.issues", []string{"label"}, func(_ string, _, lv *yaml.Node) {
				if s, ok := p.str(lv, what+".on.issues.label"); ok {
					if strings.TrimSpace(s) == "" || len(s) > maxLabelLen {
						p.errorf(lv, "%s.on.issues.label must be 1 to %d characters", what, maxLabelLen)
					}
					t.IssueLabel = s
				}
			})
			if rv := p.resolve(v); rv != nil && rv.Kind == yaml.MappingNode && t.IssueLabel == "" {
				p.errorf(v, "%s.on.issues: missing \"label\"", what)
			}
		}
	})
	return issues
}

func (p *parser) resync(n *yaml.Node, what string) time.Duration {
	rn := p.resolve(n)
	if rn == nil {
		return 0
	}
	if rn.Kind == yaml.ScalarNode && rn.Tag == "!!bool" && rn.Value == "false" {
		return 0
	}
	s, ok := p.str(rn, what+".on.resync")
	if !ok {
		return 0
	}
	if s == "off" {
		return 0
	}
	d, err := parseDuration(s)
	if err != nil {
		p.errorf(rn, "%s.on.resync: %v", what, err)
		return 0
	}
	if d < MinResync {
		p.errorf(rn, "%s.on.resync: %s is shorter than the minimum %s", what, s, MinResync)
	}
	return d
}

// parseDuration accepts Go durations plus a "d" (day) unit, which is what
// people write for resync periods.
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 365 {
			return 0, fmt.Errorf("%q is not a duration like 30m, 6h or 7d, or \"off\"", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration like 30m, 6h or 7d, or \"off\"", s)
	}
	return d, nil
}
