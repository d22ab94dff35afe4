package images

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"go.yaml.in/yaml/v3"
)

// Ref is one image reference found in a file.
type Ref struct {
	// Start and End are the byte offsets in the file of the reference text:
	// content[Start:End] == Text, and it is exactly the part Pin replaces
	// (without quotes, `docker://` prefixes or `--from=` flags). For a
	// reference spread over several keys (see Split) they are the tag's
	// value, and the Change's Edits say what is rewritten.
	Start, End int
	// Line is the 1-based line of Start, counting "\n" as editors do.
	Line int
	// Text is the reference as written, e.g. "nginx:1.25" or
	// "ghcr.io/a/b:v1@sha256:…".
	Text string
	// Name is the repository as written ("nginx", "ghcr.io/a/b").
	Name string
	// Tag is "" when the reference has none (which means "latest").
	Tag string
	// Digest is "" when the reference is not pinned yet.
	Digest string
	// Source says where the reference sits, for people: "Dockerfile FROM",
	// "Dockerfile COPY --from", "Dockerfile # syntax",
	// "Dockerfile ARG BASE (FROM on line 7)", "Compose service web",
	// "Actions job build container", "Actions job build service redis",
	// "Actions job build step 2 uses", "Action runs.image",
	// "Kubernetes Deployment/web spec.template.spec.containers[0].image",
	// "Kubernetes Pod/p spec.volumes[0].image.reference",
	// "kustomize images[2]", "YAML sidecar.image" (other YAML, Helm
	// values), …
	Source string

	// fields is set for a reference spread over several YAML keys (Helm's
	// image.repository/tag/digest, kustomize's images entries). Text is then
	// assembled ("name:tag@digest") and Start and End are the tag's value.
	fields *refFields
}

// refFields locates the values of a reference spread over several keys.
type refFields struct {
	tag valueSpan
	// digest is a sibling digest key's value, when the key is there.
	digest *valueSpan
	// digestInTag: without a digest key, Helm values carry the digest in
	// the tag ("1.27@sha256:…"), which charts' `image:tag` templates turn
	// into a valid reference.
	digestInTag bool
	// Without a digest key and without digestInTag (kustomize), a digest
	// key is inserted at addAt, after addPrefix (a line break and the
	// indentation, or ", " in a flow mapping).
	addAt     int
	addPrefix string
}

// valueSpan is the byte range of a scalar value, without its quotes.
type valueSpan struct {
	start, end int
	plain      bool // not quoted: a new value may need quotes
}

// Split reports whether the reference is spread over several keys, so that
// Text is assembled rather than written in the file as such.
func (r Ref) Split() bool { return r.fields != nil }

// change returns the change that moves r to tag and digest, and false when
// r already says exactly that.
func (r Ref) change(tag, digest string) (Change, bool) {
	c := Change{
		Ref: r, Image: r.Name,
		FromTag: r.Tag, FromDigest: r.Digest, ToTag: tag, ToDigest: digest,
		Old: r.Text, New: r.Name + ":" + tag + "@" + digest,
	}
	if c.New == c.Old {
		return Change{}, false
	}
	if r.fields == nil {
		c.Edits = []Edit{{Start: r.Start, End: r.End, Old: r.Text, New: c.New}}
		return c, true
	}
	f := r.fields
	if f.digestInTag {
		c.Edits = []Edit{f.tag.edit(r.Tag+"@"+r.Digest, tag+"@"+digest)}
		if r.Digest == "" {
			c.Edits[0].Old = r.Tag
		}
		return c, true
	}
	if tag != r.Tag {
		c.Edits = append(c.Edits, f.tag.edit(r.Tag, tag))
	}
	switch {
	case f.digest != nil && digest != r.Digest:
		c.Edits = append(c.Edits, f.digest.edit(r.Digest, digest))
	case f.digest == nil:
		c.Edits = append(c.Edits, Edit{Start: f.addAt, End: f.addAt, New: f.addPrefix + "digest: " + digest})
	}
	sort.Slice(c.Edits, func(i, j int) bool { return c.Edits[i].Start < c.Edits[j].Start })
	return c, true
}

// edit replaces the value, quoting the new one when it was plain and
// would not read back as the same string (a tag such as 1.28 is a number
// to YAML, and `1.28@sha256:…` is quoted for readability and safety).
func (v valueSpan) edit(old, nw string) Edit {
	if v.plain && (strings.Contains(nw, "@") || !plainString(nw)) {
		nw = `"` + nw + `"`
	}
	return Edit{Start: v.start, End: v.end, Old: old, New: nw}
}

// plainString reports whether s, written as a plain YAML scalar, reads back
// as the string s.
func plainString(s string) bool {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil || len(n.Content) != 1 {
		return false
	}
	v := n.Content[0]
	return v.Kind == yaml.ScalarNode && v.Tag == "!!str" && v.Value == s
}

// ResolveKey is what Pin asks the resolver for: the name and the tag to
// follow, "latest" when the reference has no tag.
func (r Ref) ResolveKey() string {
	return r.Name + ":" + r.followedTag()
}

func (r Ref) followedTag() string {
	if r.Tag == "" {
		return "latest"
	}
	return r.Tag
}

// Note explains why something that looked like a reference was left alone,
// or why a whole file was skipped (Line 0).
type Note struct {
	Line int
	Text string
}

var (
	// pathComponentRe is the distribution spec's repository path component.
	pathComponentRe = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	tagRe           = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	// digestRe is the OCI digest grammar (algorithm:encoded).
	digestRe = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)
)

// hasVariable reports whether text is templated: shell and Dockerfile
// variables, Compose interpolation, Actions expressions, Go/Helm/Jinja
// templates. Such text is only known at build or deploy time.
func hasVariable(text string) bool {
	return strings.Contains(text, "$") ||
		strings.Contains(text, "{{") || strings.Contains(text, "}}") ||
		strings.Contains(text, "{%") || strings.Contains(text, "%}")
}

// parseRef splits a reference into name, tag and digest and validates each
// part, so that nothing that would fail to parse later gets rewritten.
func parseRef(text string) (nm, tag, digest string, err error) {
	if text == "" {
		return "", "", "", fmt.Errorf("empty reference")
	}
	if len(text) > 1024 {
		return "", "", "", fmt.Errorf("reference longer than 1024 bytes")
	}
	rest := text
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest, digest = rest[:i], rest[i+1:]
		if !digestRe.MatchString(digest) {
			return "", "", "", fmt.Errorf("invalid digest %q", digest)
		}
	}
	// A ':' after the last '/' separates the tag; one before it belongs to
	// a registry port (localhost:5000/app).
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		rest, tag = rest[:i], rest[i+1:]
		if !tagRe.MatchString(tag) {
			return "", "", "", fmt.Errorf("invalid tag %q", tag)
		}
	}
	nm = rest
	if _, err := name.NewRepository(nm); err != nil {
		return "", "", "", fmt.Errorf("invalid repository %q: %w", nm, err)
	}
	// go-containerregistry accepts some paths Docker rejects ("a//b", "a..b"),
	// so check the path components against the distribution grammar too. The
	// first component is a registry, as for Docker, when it looks like a host.
	path := nm
	if i := strings.IndexByte(nm, '/'); i >= 0 {
		if first := nm[:i]; first == "localhost" || strings.ContainsAny(first, ".:") {
			path = nm[i+1:]
		}
	}
	for _, c := range strings.Split(path, "/") {
		if !pathComponentRe.MatchString(c) {
			return "", "", "", fmt.Errorf("invalid repository path component %q", c)
		}
	}
	return nm, tag, digest, nil
}
