package handlers

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tend-app/tend/internal/imagename"
)

// FuzzPackageImage feeds arbitrary package and registry_package payloads
// through the mapping from a published package to the image the index
// knows: it must never panic, a non-container package maps to nothing, and
// what it returns is already canonical (so the index lookup is exact).
func FuzzPackageImage(f *testing.F) {
	f.Add([]byte(`{"action":"published","package":{"name":"app","package_type":"CONTAINER","owner":{"login":"Acme"},"package_version":{"package_url":"ghcr.io/acme/app:1.2.3"}}}`))
	f.Add([]byte(`{"action":"published","registry_package":{"name":"app","ecosystem":"docker","namespace":"acme/app","registry":{"type":"docker","url":"https://ghcr.io"}}}`))
	f.Add([]byte(`{"action":"updated","package":{"name":"lib","package_type":"npm","owner":{"login":"acme"}}}`))
	f.Add([]byte(`{"package":{"name":"a","package_type":"container","package_version":{"package_url":"registry.test:5000/x/y@sha256:abc"}}}`))
	f.Add([]byte(`{"package":{"name":"../../x","package_type":"container","owner":{"login":"a b"}}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var ev packagePayload
		if json.Unmarshal(payload, &ev) != nil {
			return
		}
		for _, p := range []*packageInfo{ev.Package, ev.RegistryPackage} {
			if p == nil {
				continue
			}
			for _, host := range []string{"", "containers.ghe.example.com"} {
				image := packageImage(p, host)
				if image == "" {
					continue
				}
				kind := strings.ToLower(p.PackageType + " " + p.Ecosystem)
				if p.Registry != nil {
					kind += " " + strings.ToLower(p.Registry.Type)
				}
				if !strings.Contains(kind, "container") && !strings.Contains(kind, "docker") {
					t.Fatalf("package of kind %q mapped to image %q", kind, image)
				}
				if c := imagename.Canonical(image); c != image {
					t.Fatalf("packageImage gave %q, not canonical (%q)", image, c)
				}
			}
		}
	})
}
