package images

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Ref is one image reference found in a file.
type Ref struct {
	// Start and End are the byte offsets in the file of the reference text:
	// content[Start:End] == Text, and it is exactly the part Pin replaces
	// (without quotes, `docker://` prefixes or `--from=` flags).
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
	// "Dockerfile COPY --from", "Compose service web",
	// "Actions job build container", "Actions job build service redis",
	// "Actions job build step 2 uses", "Action runs.image",
	// "Kubernetes Deployment/web spec.template.spec.containers[0].image",
	// "YAML sidecar.image" (other YAML), …
	Source string
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
