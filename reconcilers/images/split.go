package images

import (
	"bytes"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// splitSpec is a reference spread over several YAML keys: Helm's
// `image: {registry, repository, tag, digest}`, an `image: repo/name` string
// beside a `tag:` key, or a kustomize `images:` entry.
type splitSpec struct {
	source, ignored string
	// registry (optional) and repository name the image.
	registry, repository *yaml.Node
	// tag is the tag key's value; nil when there is no such key.
	tag *yaml.Node
	// noTag says where the tag comes from when tag is missing or empty.
	noTag string
	// digestKey and digest: a digest key exists, with this value.
	digestKey bool
	digest    *yaml.Node
	// digestInTag: without a digest key the digest goes into the tag (Helm).
	// Otherwise a digest key is added after the value addAfter (kustomize).
	digestInTag bool
	addAfter    *yaml.Node
	flow        bool // the mapping is a flow mapping ({name: …})
	indent      int  // column of the mapping's keys (block mappings)
}

// split considers a reference spread over several keys, or notes why it is
// left alone.
func (y *yamlFile) split(s splitSpec) {
	line := y.nodeLine(s.repository)
	nm, ok := y.splitName(s, line)
	if !ok {
		return
	}
	if !y.splitHasTag(s, line, nm) {
		return
	}
	if s.ignored == "" && y.lineMarked(line) {
		// A trailing # tend:ignore on the name's line covers the entry.
		s.ignored = "# tend:ignore on its line"
	}
	tagSpan, tag, ok := y.splitValue(s, s.tag, "tag", nm)
	if !ok {
		return
	}
	line = y.lineOf(tagSpan.start)
	if y.seen[tagSpan.start] {
		return
	}
	y.seen[tagSpan.start] = true
	f := &refFields{tag: tagSpan, digestInTag: s.digestInTag && !s.digestKey}
	digest := ""
	if f.digestInTag {
		tag, digest, _ = strings.Cut(tag, "@")
	} else if digest, ok = y.splitDigest(s, f, line, nm+":"+tag); !ok {
		return
	}
	text := nm + ":" + tag
	if digest != "" {
		text += "@" + digest
	}
	if y.leftAlone(line, s.source, text, s.ignored) {
		return
	}
	pn, pt, pd, err := parseRef(text)
	switch {
	case err != nil:
		y.note(line, "%s %q is not an image reference (%v); left alone", s.source, text, err)
	case pt == "":
		y.note(line, "%s %q has no tag to follow; left alone", s.source, text)
	default:
		y.refs = append(y.refs, Ref{
			Start: tagSpan.start, End: tagSpan.end, Line: line,
			Text: text, Name: pn, Tag: pt, Digest: pd, Source: s.source, fields: f,
		})
	}
}

// splitHasTag notes a reference without a tag to follow.
func (y *yamlFile) splitHasTag(s splitSpec, line int, nm string) bool {
	t := s.tag
	if t != nil && !(t.Kind == yaml.ScalarNode && (t.Tag == "!!null" || t.Value == "")) {
		return true
	}
	if d := deref(s.digest); d != nil && d.Kind == yaml.ScalarNode && d.Tag == "!!str" && d.Value != "" {
		y.note(line, "%s %q is pinned by digest only, with no tag to follow; left alone", s.source, nm+"@"+d.Value)
	} else {
		y.note(line, "%s %q has no tag (%s); left alone", s.source, nm, s.noTag)
	}
	return false
}

// splitDigest locates the digest key's value, or where one will go.
func (y *yamlFile) splitDigest(s splitSpec, f *refFields, line int, nameTag string) (string, bool) {
	if strings.Contains(nameTag, "@") {
		y.note(line, "%s %q: its tag carries a digest, which belongs in the digest key; left alone", s.source, nameTag)
		return "", false
	}
	if !s.digestKey {
		return "", y.digestInsertion(s, f, line, nameTag)
	}
	if s.digest == nil || s.digest.Kind == yaml.ScalarNode && s.digest.Tag == "!!null" {
		y.note(line, "%s %q: its digest key has no value to replace (write digest: \"\"); left alone", s.source, nameTag)
		return "", false
	}
	ds, d, ok := y.splitValue(s, s.digest, "digest", nameTag)
	if !ok {
		return "", false
	}
	f.digest = &ds
	return d, true
}

// splitName assembles the image name from the registry and repository.
func (y *yamlFile) splitName(s splitSpec, line int) (string, bool) {
	nm := ""
	for _, n := range []*yaml.Node{s.registry, s.repository} {
		if n == nil {
			continue
		}
		if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
			y.note(line, "%s: the image name is not a string; left alone", s.source)
			return "", false
		}
		if nm != "" {
			nm += "/"
		}
		nm += strings.TrimSuffix(n.Value, "/")
	}
	if nm == "" {
		y.note(line, "%s: the image name is empty; left alone", s.source)
		return "", false
	}
	if hasVariable(nm) {
		y.note(line, "%s %q contains a variable; left alone", s.source, nm)
		return "", false
	}
	return nm, true
}

// splitValue locates a tag or digest value that will be rewritten in place.
func (y *yamlFile) splitValue(s splitSpec, n *yaml.Node, what, nm string) (valueSpan, string, bool) {
	line := y.nodeLine(n)
	switch {
	case n.Kind == yaml.AliasNode:
		y.note(line, "%s %q: its %s is an alias; left alone", s.source, nm, what)
		return valueSpan{}, "", false
	case n.Kind != yaml.ScalarNode || n.Tag == "!!bool" || n.Tag == "!!binary":
		y.note(line, "%s %q: its %s is not a string; left alone", s.source, nm, what)
		return valueSpan{}, "", false
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		y.note(line, "%s %q: its %s is a block scalar; left alone", s.source, nm, what)
		return valueSpan{}, "", false
	}
	start, ok := y.locate(n)
	if !ok {
		y.note(line, "%s %q: its %s %q is not written literally in the file; left alone", s.source, nm, what, n.Value)
		return valueSpan{}, "", false
	}
	plain := n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0
	return valueSpan{start: start, end: start + len(n.Value), plain: plain}, n.Value, true
}

// digestInsertion finds where a digest key goes: after the mapping's last
// value, on a line of its own in a block mapping (after any comment on
// that line), or after ", " in a flow mapping.
func (y *yamlFile) digestInsertion(s splitSpec, f *refFields, line int, nm string) bool {
	last := s.addAfter
	if last == nil || last.Kind != yaml.ScalarNode || last.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		y.note(line, "%s %q: there is no place to add a digest key after its last value; left alone", s.source, nm)
		return false
	}
	start, ok := y.locate(last)
	if !ok {
		y.note(line, "%s %q: its last value is not written literally, so a digest key cannot follow it; left alone", s.source, nm)
		return false
	}
	end := start + len(last.Value)
	if last.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		end++ // the closing quote
	}
	if s.flow {
		f.addAt, f.addPrefix = end, ", "
		return true
	}
	c := y.content
	at := end
	for at < len(c) && c[at] != '\n' && c[at] != '\r' {
		at++
	}
	f.addAt, f.addPrefix = at, y.lineEnding()+strings.Repeat(" ", s.indent-1)
	return s.indent >= 1
}

// lineEnding is the file's first line ending, "\n" when it has none.
func (y *yamlFile) lineEnding() string {
	if i := bytes.IndexAny(y.content, "\r\n"); i >= 0 && y.content[i] == '\r' {
		if i+1 < len(y.content) && y.content[i+1] == '\n' {
			return "\r\n"
		}
		return "\r"
	}
	return "\n"
}

// isImageKey reports whether a key names an image map in Helm values:
// `image`, or a name ending in Image (`initImage`, `sidecar_image`).
func isImageKey(k string) bool {
	return len(k) >= len("image") && strings.EqualFold(k[len(k)-len("image"):], "image")
}

// helmImage considers a Helm-style `image: {registry?, repository, tag,
// digest?}` mapping. It reports false when m is not one.
func (y *yamlFile) helmImage(m *yaml.Node, source, ignored string) bool {
	_, repo := mapGet(m, "repository")
	if repo = deref(repo); repo == nil || repo.Kind != yaml.ScalarNode {
		return false
	}
	_, reg := mapGet(m, "registry")
	_, tag := mapGet(m, "tag")
	dk, digest := mapGet(m, "digest")
	if reg = deref(reg); reg != nil && (reg.Tag == "!!null" || reg.Kind == yaml.ScalarNode && reg.Value == "") {
		reg = nil
	}
	y.split(splitSpec{
		source: source, ignored: ignored,
		registry: reg, repository: repo, tag: tag, noTag: "the chart's appVersion decides",
		digestKey: dk != nil, digest: digest, digestInTag: true,
	})
	return true
}

// imageBesideTag considers `image: repo/name` written beside a `tag:` key
// (and maybe `registry:` and `digest:`), one reference over several keys:
// the string alone must never be pinned, as charts template `image:tag`.
func (y *yamlFile) imageBesideTag(m, img *yaml.Node, source, ignored string) {
	_, tag := mapGet(m, "tag")
	_, reg := mapGet(m, "registry")
	dk, digest := mapGet(m, "digest")
	if reg = deref(reg); reg != nil && (reg.Kind != yaml.ScalarNode || reg.Value == "") {
		reg = nil
	}
	y.split(splitSpec{
		source: source, ignored: ignored,
		registry: reg, repository: deref(img), tag: tag, noTag: "its tag key is empty",
		digestKey: dk != nil, digest: digest, digestInTag: true,
	})
}

// kustomize finds the `images:` entries of a kustomization: name, newName,
// newTag and digest. They are pinned by setting digest, which kustomize
// combines with newTag into name:tag@digest.
func (y *yamlFile) kustomize(root *yaml.Node, ignored string) {
	images, ignored := y.listAt(root, "images", ignored)
	for i, e := range images {
		e = deref(e)
		if e == nil || e.Kind != yaml.MappingNode || len(e.Content) < 2 {
			continue
		}
		_, name := mapGet(e, "name")
		_, newName := mapGet(e, "newName")
		if newName != nil {
			name = newName
		}
		name = deref(name)
		if name == nil {
			continue
		}
		_, tag := mapGet(e, "newTag")
		dk, digest := mapGet(e, "digest")
		y.split(splitSpec{
			source: "kustomize images[" + strconv.Itoa(i) + "]", ignored: y.ignoredAt(e, ignored),
			repository: name, tag: tag, noTag: "no newTag: the tag comes from the manifests",
			digestKey: dk != nil, digest: digest,
			addAfter: e.Content[len(e.Content)-1], flow: e.Style&yaml.FlowStyle != 0, indent: e.Content[0].Column,
		})
	}
}
