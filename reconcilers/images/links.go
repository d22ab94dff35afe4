package images

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// RegistryPage returns the web page of an image repository on the
// registries that have one at a predictable address, or "".
func RegistryPage(image string) string {
	repo, err := name.NewRepository(image)
	if err != nil {
		return ""
	}
	path := repo.RepositoryStr()
	switch repo.RegistryStr() {
	case name.DefaultRegistry, "docker.io":
		if rest, ok := strings.CutPrefix(path, "library/"); ok && !strings.Contains(rest, "/") {
			return "https://hub.docker.com/_/" + rest
		}
		return "https://hub.docker.com/r/" + path
	case "ghcr.io":
		// ghcr.io/OWNER/NAME in a browser redirects to the package page.
		return "https://ghcr.io/" + path
	case "quay.io":
		return "https://quay.io/repository/" + path
	case "public.ecr.aws":
		return "https://gallery.ecr.aws/" + path
	case "mcr.microsoft.com":
		return "https://mcr.microsoft.com/artifact/mar/" + path
	case "gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io":
		// gcr.io/PROJECT/NAME in a browser opens the repository's page.
		return "https://" + repo.RegistryStr() + "/" + path
	}
	return ""
}
