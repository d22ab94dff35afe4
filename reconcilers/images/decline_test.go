package images

import (
	"context"
	"strings"
	"testing"

	"github.com/tend-app/tend/internal/botpr"
)

const declineFile = "FROM nginx:1.25 AS web\nFROM docker.io/library/redis:7 AS cache\nFROM ghcr.io/acme/app:v1\n"

func pinned(t *testing.T, content string, r Resolver) []Change {
	t.Helper()
	_, pins, fails, _ := Pin(context.Background(), "Dockerfile", []byte(content), r)
	if len(fails) > 0 || len(pins) != 3 {
		t.Fatalf("pins %v, failures %v", pins, fails)
	}
	return pins
}

// A rewrite is named by the reference it ends up as, with the image's
// canonical name: how the reference was written does not matter.
func TestRewriteOf(t *testing.T) {
	pins := pinned(t, declineFile, &fakeResolver{})
	got := proposalOf(pins).Rewrites
	want := []string{
		"ghcr.io/acme/app:v1@" + fakeDigest("ghcr.io/acme/app:v1"),
		"index.docker.io/library/nginx:1.25@" + fakeDigest("nginx:1.25"),
		"index.docker.io/library/redis:7@" + fakeDigest("docker.io/library/redis:7"),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rewrites:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The same image written another way, pinned or not, is the same
	// rewrite.
	d := fakeDigest("x")
	short := Change{Image: "nginx", ToTag: "1.25", ToDigest: d}
	long := Change{Image: "docker.io/library/nginx", FromTag: "1.25", FromDigest: fakeDigest("old"), ToTag: "1.25", ToDigest: d}
	if rewriteOf(short) != rewriteOf(long) || rewriteOf(short) != "index.docker.io/library/nginx:1.25@"+d {
		t.Errorf("rewriteOf: %s and %s", rewriteOf(short), rewriteOf(long))
	}
}

func TestWithholdDeclined(t *testing.T) {
	content := []byte(declineFile)
	pins := pinned(t, declineFile, &fakeResolver{})

	// Nothing declined: every pin applies, as Pin applies them.
	full, _, _, _ := Pin(context.Background(), "Dockerfile", content, &fakeResolver{})
	out, kept, withheld := withholdDeclined(content, pins, botpr.Decline{})
	if string(out) != string(full) || len(kept) != 3 || len(withheld) != 0 {
		t.Fatalf("with no decline: %d kept, %d withheld\n%s", len(kept), len(withheld), out)
	}

	// Two of three declined: only the third is applied.
	var d botpr.Decline
	d.Add(botpr.Proposal{Rewrites: []string{rewriteOf(pins[0]), rewriteOf(pins[2])}}, 7)
	out, kept, withheld = withholdDeclined(content, pins, d)
	want := strings.Replace(declineFile, "docker.io/library/redis:7", pins[1].New, 1)
	if string(out) != want || len(kept) != 1 || len(withheld) != 2 {
		t.Errorf("with two declined:\n%s\nwant:\n%s", out, want)
	}
	if note := withheldNote(withheld, d); !strings.Contains(note, "#7") || !strings.Contains(note, pins[0].New) || strings.Contains(note, pins[1].New) {
		t.Errorf("note: %s", note)
	}

	// A tag that moved is a different rewrite: proposed again.
	moved := pinned(t, declineFile, &fakeResolver{salt: "moved"})
	_, kept, withheld = withholdDeclined(content, moved, d)
	if len(kept) != 3 || len(withheld) != 0 {
		t.Errorf("after the tags moved: %d kept, %d withheld", len(kept), len(withheld))
	}

	// Everything declined: the content is unchanged.
	d.Add(*proposalOf(pins), 8)
	out, kept, _ = withholdDeclined(content, pins, d)
	if string(out) != declineFile || len(kept) != 0 {
		t.Errorf("with all declined the content changed:\n%s", out)
	}
}
