package handlers

import "testing"

// Package events name the image on the GitHub instance's own registry:
// ghcr.io on github.com, the configured host on GitHub Enterprise Server.
func TestPackageImageRegistryHost(t *testing.T) {
	p := &packageInfo{Name: "app", PackageType: "CONTAINER", Owner: user{Login: "Acme"}}
	if got := packageImage(p, ""); got != "ghcr.io/acme/app" {
		t.Errorf("github.com: %q", got)
	}
	if got := packageImage(p, "containers.ghe.example.com"); got != "containers.ghe.example.com/acme/app" {
		t.Errorf("GHES: %q", got)
	}
}
