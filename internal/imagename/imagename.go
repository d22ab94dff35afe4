// Package imagename canonicalises container image repository names, so
// that the images reconciler (which indexes the images each file uses) and
// the webhook handlers (which map a published package to those files) agree
// on one spelling: "nginx" and "index.docker.io/library/nginx" are the same
// repository.
package imagename

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Canonical normalises an image repository name the way registries do
// ("nginx" → "index.docker.io/library/nginx"), lower-cased; "" when it is
// not a valid repository name.
func Canonical(repository string) string {
	r, err := name.NewRepository(repository)
	if err != nil {
		return ""
	}
	// Registry hosts are case-insensitive, but the parser knows Docker
	// Hub's aliases only in lower case: parse the lower-cased name once
	// more, so that "DoCker.io/nginx" and "nginx" are one repository.
	r, err = name.NewRepository(strings.ToLower(r.Name()))
	if err != nil {
		return ""
	}
	return strings.ToLower(r.Name())
}
