package handlers

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// app.yml subscribes to exactly the events the handlers take (installation
// events aside: GitHub delivers them to every App unasked).
func TestAppManifestSubscribesToHandledEvents(t *testing.T) {
	raw, err := os.ReadFile("../app.yml")
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		DefaultEvents []string `yaml:"default_events"`
	}
	if err := yaml.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	var handled []string
	for _, e := range Events() {
		if !strings.HasPrefix(e, "installation") {
			handled = append(handled, e)
		}
	}
	slices.Sort(handled)
	subscribed := slices.Sorted(slices.Values(manifest.DefaultEvents))
	if len(handled) == 0 || !slices.Equal(handled, subscribed) {
		t.Errorf("handlers take %v; app.yml subscribes to %v", handled, subscribed)
	}
}
