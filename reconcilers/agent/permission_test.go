package agent

import (
	"context"
	"testing"

	"github.com/tend-app/tend/internal/fakegithub"
)

// Write access is admin, maintain or write, read from permission and from
// role_name; triage, read and outsiders have none.
func TestWriters(t *testing.T) {
	gh := fakegithub.New(t)
	gh.AddInstallation(1, "acme")
	gh.AddRepoWithFiles(1, "acme/web", "main", map[string]string{"a": "a\n"})
	for login, role := range map[string]string{"ada": "admin", "max": "maintain", "wes": "write", "tia": "triage", "rea": "read"} {
		gh.SetPermission("acme/web", login, role)
	}
	gh.AddComment("acme/web", gh.AddIssue("acme/web", 0, "t", "", "outsider", nil), "outsider", "hi")
	cc, err := gh.ClientCreator()
	if err != nil {
		t.Fatal(err)
	}
	client, err := cc.NewInstallationClient(1)
	if err != nil {
		t.Fatal(err)
	}
	w := newWriters(client, "acme", "web")
	for login, want := range map[string]bool{"ada": true, "max": true, "wes": true, "tia": false, "rea": false, "outsider": false, "ghost": false} {
		got, err := w.has(context.Background(), login)
		if err != nil || got != want {
			t.Errorf("has(%s) = %v, %v; want %v", login, got, err, want)
		}
	}
	before := len(gh.Requests())
	if ok, _ := w.has(context.Background(), "ada"); !ok || len(gh.Requests()) != before {
		t.Errorf("a second question about the same user asked GitHub again")
	}
}
