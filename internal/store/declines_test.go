package store_test

import (
	"context"
	"testing"

	"github.com/tend-app/tend/internal/store"
)

// Declines are kept per key, replaced, cleared, and move with a renamed
// repository without touching other repositories' rows.
func TestDeclines(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		get := func(key string) string {
			t.Helper()
			d, err := st.Decline(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		if d := get("acme/web:pin:a.yaml"); d != "" {
			t.Fatalf("a key never declined reads %q", d)
		}
		for key, d := range map[string]string{"acme/web:pin:a.yaml": `{"prs":[1]}`, "acme/web:docs#4": `{"prs":[2]}`} {
			if err := st.SetDecline(ctx, "acme/web", key, d); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.SetDecline(ctx, "acme/web", "acme/web:pin:a.yaml", `{"prs":[1,3]}`); err != nil {
			t.Fatal(err)
		}
		if d := get("acme/web:pin:a.yaml"); d != `{"prs":[1,3]}` {
			t.Errorf("replaced decline reads %q", d)
		}
		if err := st.ClearDecline(ctx, "acme/web:docs#4"); err != nil {
			t.Fatal(err)
		}
		if d := get("acme/web:docs#4"); d != "" {
			t.Errorf("cleared decline reads %q", d)
		}
	})
}

func TestRenameRepoDeclines(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		set := func(repo, key, d string) {
			t.Helper()
			if err := st.SetDecline(ctx, repo, key, d); err != nil {
				t.Fatal(err)
			}
		}
		set("acme/web", "acme/web:pin:deploy/a.yaml", "A")
		set("acme/web", "acme/web:docs#4", "B")
		set("acme/webby", "acme/webby:pin:deploy/a.yaml", "C")
		set("acme/site", "acme/site:docs#4", "existing")
		if err := st.RenameRepoDeclines(ctx, "Acme/Web", "acme/site"); err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string]string{
			"acme/web:pin:deploy/a.yaml": "", "acme/web:docs#4": "",
			"acme/site:pin:deploy/a.yaml": "A", "acme/site:docs#4": "existing",
			"acme/webby:pin:deploy/a.yaml": "C",
		} {
			if got, err := st.Decline(ctx, key); err != nil || got != want {
				t.Errorf("decline of %s = %q, %v; want %q", key, got, err, want)
			}
		}
		// The moved rows belong to the new name: renaming again moves them.
		if err := st.RenameRepoDeclines(ctx, "acme/site", "other/site"); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.Decline(ctx, "other/site:pin:deploy/a.yaml"); got != "A" {
			t.Errorf("a second rename lost the decline: %q", got)
		}
	})
}
