package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/keys"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/store"
)

// statusLimits bound what the status page reads and shows.
const (
	statusRuns      = 50
	statusDead      = 100
	statusRepos     = 200
	statusReadLimit = 5 * time.Second
)

// statusView is what /status renders.
type statusView struct {
	Title         string
	Message       string
	Problems      []string         // parts of the page that could not be read
	Depth         map[string]int64 // jobs by River state
	DeadCount     int64
	OldestPending string
	Runs          []runView
	Dead          []deadView
	Installations []installationView
	Invalid       []store.ConfigProblem
	PRs           []prView
}

type runView struct {
	Key, Outcome, PRURL, Ago, Duration string
	PR                                 int
	Tokens                             int64
	Failed                             bool
}

type deadView struct {
	Key, Since, LastError string
	Attempts              int
}

type installationView struct {
	ID                 int64
	Account, Suspended string
	Rate               string
}

type prView struct {
	Repo                 string
	Open, Waiting, Limit int
	Full                 bool
}

// status is the operator page: what tend did recently and what needs a
// person. It reads the database and GitHub's installation list; a part that
// cannot be read is named on the page instead of failing it.
func (a *app) status(w http.ResponseWriter, r *http.Request) {
	l := a.live.Load()
	if l == nil {
		a.setupError(w, http.StatusServiceUnavailable, "tend is not connected to GitHub yet: register the App on the setup page first.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), statusReadLimit)
	defer cancel()
	v := statusView{Title: "status", Message: r.URL.Query().Get("msg")}
	problem := func(what string, err error) {
		zerolog.Ctx(r.Context()).Warn().Err(err).Str("part", what).Msg("status page")
		v.Problems = append(v.Problems, what+": "+err.Error())
	}
	stats, err := l.q.Stats(ctx)
	if err != nil {
		problem("queue", err)
	}
	v.Depth, v.DeadCount = map[string]int64{}, stats.DeadLetters
	for state, n := range stats.ByState {
		v.Depth[string(state)] = n
	}
	if !stats.OldestPending.IsZero() {
		v.OldestPending = ago(time.Since(stats.OldestPending))
	}
	if v.Runs, err = a.recentRuns(ctx, l); err != nil {
		problem("recent reconciles", err)
	}
	if v.Dead, err = deadLetters(ctx, l.q); err != nil {
		problem("dead letters", err)
	}
	if v.Installations, err = a.installations(ctx, l); err != nil {
		problem("installations", err)
	}
	if v.Invalid, err = a.st.InvalidConfigs(ctx, statusRepos); err != nil {
		problem("configs", err)
	}
	if v.PRs, err = a.prCounts(ctx); err != nil {
		problem("pull requests", err)
	}
	render(w, http.StatusOK, statusPage, map[string]any{"Title": v.Title, "V": v})
}

func (a *app) recentRuns(ctx context.Context, l *live) ([]runView, error) {
	runs, err := a.st.RecentRuns(ctx, statusRuns)
	if err != nil {
		return nil, err
	}
	out := make([]runView, 0, len(runs))
	for _, run := range runs {
		rv := runView{
			Key: run.Key, Outcome: run.Outcome, PR: run.PR, Tokens: run.Tokens,
			Ago: ago(time.Since(run.At)), Duration: run.Duration.Round(time.Millisecond).String(),
			Failed: run.Outcome == "error" || run.Outcome == "failed" || run.Outcome == "dead",
		}
		if k, err := keys.Parse(run.Key); err == nil && run.PR > 0 {
			rv.PRURL = fmt.Sprintf("%s%s/pull/%d", l.s.GitHub.WebURL, k.FullName(), run.PR)
		}
		out = append(out, rv)
	}
	return out, nil
}

func deadLetters(ctx context.Context, q *queue.Queue) ([]deadView, error) {
	jobs, err := q.DeadLetters(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []deadView
	for _, j := range jobs {
		if seen[j.Key] || len(out) >= statusDead {
			continue
		}
		seen[j.Key] = true
		d := deadView{Key: j.Key, Attempts: j.Attempt}
		if j.FinalizedAt != nil {
			d.Since = ago(time.Since(*j.FinalizedAt))
		}
		if len(j.Errors) > 0 {
			d.LastError = oneLine(j.Errors[len(j.Errors)-1], 200)
		}
		out = append(out, d)
	}
	return out, nil
}

func (a *app) installations(ctx context.Context, l *live) ([]installationView, error) {
	client, err := l.clients.NewAppClient()
	if err != nil {
		return nil, err
	}
	list, _, err := client.Apps.ListInstallations(ctx, &github.ListOptions{PerPage: 100})
	if err != nil {
		return nil, fmt.Errorf("GET /app/installations: %w", err)
	}
	out := make([]installationView, 0, len(list))
	for _, inst := range list {
		iv := installationView{ID: inst.GetID(), Account: inst.GetAccount().GetLogin(), Rate: "no request yet"}
		if inst.SuspendedAt != nil {
			iv.Suspended = "suspended " + ago(time.Since(inst.GetSuspendedAt().Time))
		}
		if rl, ok := a.gh.Rate(inst.GetID()); ok {
			iv.Rate = fmt.Sprintf("%d of %d left, resets in %s", rl.Remaining, rl.Limit, time.Until(rl.Reset).Round(time.Minute))
		}
		out = append(out, iv)
	}
	return out, nil
}

func (a *app) prCounts(ctx context.Context) ([]prView, error) {
	counts, err := a.st.PRCounts(ctx, statusRepos)
	if err != nil {
		return nil, err
	}
	out := make([]prView, 0, len(counts))
	for _, c := range counts {
		pv := prView{Repo: c.Repo, Open: c.Open, Waiting: c.Waiting, Limit: config.DefaultOpenPRLimit}
		if rec, ok, err := a.st.GetRepo(ctx, c.Repo); err == nil && ok && rec.Errors == "" && len(rec.Raw) > 0 {
			if cfg, err := config.Parse(rec.Path, rec.Raw); err == nil {
				pv.Limit = cfg.PullRequests.Limit
			}
		}
		pv.Full = pv.Open >= pv.Limit
		out = append(out, pv)
	}
	return out, nil
}

// retryDeadLetter re-drives one dead-lettered key from the status page.
func (a *app) retryDeadLetter(w http.ResponseWriter, r *http.Request) {
	l := a.live.Load()
	if l == nil {
		http.Error(w, "tend is not connected to GitHub yet", http.StatusServiceUnavailable)
		return
	}
	if !a.sameOrigin(r) {
		// Basic auth travels with cross-site form posts too.
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	k, err := keys.Parse(r.FormValue("key"))
	if err != nil {
		http.Error(w, "bad key: "+err.Error(), http.StatusBadRequest)
		return
	}
	msg, err := l.q.Redrive(r.Context(), k.String())
	if err != nil {
		msg = "retry failed: " + err.Error()
	}
	zerolog.Ctx(r.Context()).Info().Str("key", k.String()).Str("result", msg).Msg("dead letter retried from /status")
	http.Redirect(w, r, "/status?"+url.Values{"msg": {msg}}.Encode(), http.StatusSeeOther)
}

// sameOrigin accepts a form post from tend's own pages: browsers send
// Sec-Fetch-Site or Origin with every POST.
func (a *app) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return origin == "" // not a browser (curl): basic auth is the guard
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// ago says how long ago something was, coarsely.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}
