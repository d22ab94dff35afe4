package agent_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/fakegemini"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/reconcilers/agent"
	"github.com/tend-app/tend/reconcilers/agent/worktree"
)

// Preview runs the agent on a local source with the gate of a GitHub run:
// a submission whose YAML does not parse is sent back, the fixed one is
// the preview; the source is only read. Without a model it is an error.
func TestPreview(t *testing.T) {
	gem := fakegemini.New(t,
		fakegemini.Call("write_file", map[string]any{"path": "deploy/app.yaml", "content": "a: [\n"}),
		fakegemini.Call("submit", map[string]any{"title": "Break it", "summary": "Oops."}),
		fakegemini.Expect(func(r fakegemini.Request) error {
			if fr, _ := r.FunctionResponse("submit"); fr.Response["problems"] == nil {
				return errors.New("the gate let broken YAML through")
			}
			return nil
		}, fakegemini.Call("write_file", map[string]any{"path": "deploy/app.yaml", "content": "a: [1]\n"})),
		fakegemini.Call("submit", map[string]any{"title": "Set a", "summary": "Sets a."}),
	)
	model := fakeModel(t, gem)
	src := worktree.NewMemSource(map[string]string{"deploy/app.yaml": "a: 0\n"})
	k, err := keys.ForPath("local", "web", "deploy", "deploy/app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lr := agent.LocalRun{Key: k, Rule: config.Rule{Name: "deploy", Reconciler: "agent", Prompt: "a is a list"}, BaseBranch: "main", Source: src, Log: zerolog.Nop()}
	pv, err := (&agent.Reconciler{Model: model, ModelName: "gemini-test"}).Preview(context.Background(), lr)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Ending != agent.EndSubmitted || pv.Title != "Set a" || len(pv.Files) != 1 || string(pv.Files[0].Base) != "a: 0\n" || string(pv.Files[0].Desired) != "a: [1]\n" {
		t.Fatalf("preview %+v", pv)
	}
	if pv.Conclusion != "success" || !strings.Contains(pv.Summary, "Sets a.") || !strings.Contains(pv.Text, "`submit`") {
		t.Errorf("check run %q %q\n%s", pv.Conclusion, pv.Summary, pv.Text)
	}
	entries, _ := src.Entries(context.Background())
	if got, _ := src.Read(context.Background(), entries[0]); string(got) != "a: 0\n" {
		t.Errorf("the source changed: %q", got)
	}
	if _, err := (&agent.Reconciler{}).Preview(context.Background(), lr); !errors.Is(err, agent.ErrNoCredentials) {
		t.Errorf("without a model: %v", err)
	}
}
