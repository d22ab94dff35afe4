package changes

import (
	"github.com/tend-app/tend/internal/botpr"
	"github.com/tend-app/tend/internal/clip"

	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/keys"
)

// Check-run output is cut to GitHub's limit (characters, met by cutting
// in bytes) without splitting a character, and says so.
func TestCheckOutputIsCut(t *testing.T) {
	long := strings.Repeat("é", 70000)
	got := clip.Text(long, maxOutputChars, truncatedNote)
	if n := utf8.RuneCountInString(got); n > maxOutputChars || !utf8.ValidString(got) || !strings.HasSuffix(got, "(truncated)") {
		t.Errorf("cut output: %d chars, valid %v", n, utf8.ValidString(got))
	}
}

func TestRenderBodyKeepsState(t *testing.T) {
	c := &Change{Key: keys.MustParse("acme/web:r:a"), Rule: "r", Summary: strings.Repeat("x", 70000), Fixes: 7}
	body := renderBody(c, botpr.State{Key: "acme/web:r:a", Hash: "h"})
	if utf8.RuneCountInString(body) > maxBodyChars {
		t.Errorf("body has %d chars", utf8.RuneCountInString(body))
	}
	if st, ok := botpr.ParseState(body); !ok || st.Hash != "h" {
		t.Errorf("the state block was cut")
	}
	if !strings.Contains(body, "Fixes #7") {
		t.Errorf("no Fixes line")
	}
}

// Check runs respect GitHub's limits: 120 annotations go 50 per request,
// long output is truncated, and the fake (which enforces the limits like
// GitHub) accepts every request.
func TestPostCheckLimits(t *testing.T) {
	gh := fakegithub.New(t)
	gh.AddInstallation(1, "acme")
	gh.AddRepoWithFiles(1, "acme/web", "main", map[string]string{"a.txt": strings.Repeat("line\n", 200)})
	cfg := gh.AppConfig()
	cc, err := githubapp.NewDefaultCachingClientCreator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client, err := cc.NewInstallationClient(1)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := gh.Branch("acme/web", "main")
	var anns []Annotation
	for i := 1; i <= 120; i++ {
		anns = append(anns, Annotation{Path: "a.txt", StartLine: i, Level: "warning", Message: fmt.Sprintf("line %d", i)})
	}
	gh.ResetRequests()
	err = PostCheck(context.Background(), client, "acme", "web", Check{
		Name: "tend / r", HeadSHA: head, ExternalID: "acme/web:r:a.txt", Conclusion: "neutral",
		Title: strings.Repeat("t", 400), Summary: strings.Repeat("s", 100000), Text: strings.Repeat("x", 100000),
		Annotations: anns, Reconcilable: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var checkReqs []string
	for _, r := range gh.Requests() {
		if strings.HasPrefix(r.Operation, "checks/") {
			checkReqs = append(checkReqs, r.Operation)
		}
	}
	if strings.Join(checkReqs, ",") != "checks/create,checks/update,checks/update" {
		t.Errorf("requests for 120 annotations: %v; want a create and 2 updates", checkReqs)
	}
	runs := gh.CheckRuns("acme/web")
	if len(runs) != 1 || len(runs[0].Actions) != 2 || runs[0].Actions[1].Identifier != ActionRecreate || runs[0].Conclusion != "neutral" {
		t.Fatalf("check runs = %+v", runs)
	}
	if n := utf8.RuneCountInString(runs[0].Output.Summary); n > maxOutputChars {
		t.Errorf("summary has %d chars", n)
	}
}
