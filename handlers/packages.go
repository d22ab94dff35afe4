package handlers

import (
	"github.com/tend-app/tend/internal/imagename"

	"context"
	"strings"

	"github.com/tend-app/tend/internal/keys"
)

// Packages maps a container image published to a registry (GitHub's
// registry_package and package events) to the keys whose files reference
// that image, using the index the images reconciler keeps. Tags moved in
// other registries are caught by the periodic resync.
type Packages struct{ Deps }

func (h *Packages) Handles() []string { return []string{"registry_package", "package"} }

type packagePayload struct {
	envelope
	Package         *packageInfo `json:"package"`
	RegistryPackage *packageInfo `json:"registry_package"`
}

type packageInfo struct {
	Name        string `json:"name"`
	Namespace   string `json:"namespace"`
	PackageType string `json:"package_type"`
	Ecosystem   string `json:"ecosystem"`
	Owner       user   `json:"owner"`
	Version     *struct {
		PackageURL string `json:"package_url"`
	} `json:"package_version"`
	Registry *struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"registry"`
}

func (h *Packages) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var ev packagePayload
	if err := decode(eventType, deliveryID, payload, &ev); err != nil {
		return err
	}
	switch ev.Action {
	case "published", "updated":
	default:
		return ignore(ctx, "package "+ev.Action)
	}
	p := ev.Package
	if p == nil {
		p = ev.RegistryPackage
	}
	if p == nil {
		return ignore(ctx, "payload names no package")
	}
	image := packageImage(p, h.RegistryHost)
	if image == "" {
		return ignore(ctx, "not a container image")
	}
	ctx, _ = repoContext(ctx, ev.Installation.ID, ev.Repository.FullName)
	names, err := h.Index.KeysForImage(ctx, image)
	if err != nil {
		return err
	}
	var ks []keys.Key
	for _, n := range names {
		if k, err := keys.Parse(n); err == nil {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		return ignore(ctx, "no file references "+image)
	}
	return h.enqueue(ctx, eventType, deliveryID, "package:"+image, ks)
}

// packageImage returns the canonical image name of a container package, or
// "" for packages of other kinds. Without a package URL naming the image,
// the registry is registryHost (GitHub Enterprise Server's container
// registry), else ghcr.io.
func packageImage(p *packageInfo, registryHost string) string {
	kind := strings.ToLower(p.PackageType + " " + p.Ecosystem)
	if p.Registry != nil {
		kind += " " + strings.ToLower(p.Registry.Type)
	}
	if !strings.Contains(kind, "container") && !strings.Contains(kind, "docker") {
		return ""
	}
	if p.Version != nil && p.Version.PackageURL != "" {
		ref := p.Version.PackageURL
		if i := strings.Index(ref, "@"); i >= 0 {
			ref = ref[:i]
		}
		if slash := strings.LastIndexByte(ref, '/'); slash >= 0 {
			if colon := strings.LastIndexByte(ref, ':'); colon > slash {
				ref = ref[:colon]
			}
		}
		if c := imagename.Canonical(ref); c != "" {
			return c
		}
	}
	owner := p.Owner.Login
	if owner == "" {
		owner, _, _ = strings.Cut(p.Namespace, "/")
	}
	if owner == "" || p.Name == "" {
		return ""
	}
	host := "ghcr.io"
	if registryHost != "" {
		host = registryHost
	}
	return imagename.Canonical(host + "/" + strings.ToLower(owner+"/"+p.Name))
}
