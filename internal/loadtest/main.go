package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadtest intake|storm|scale [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "intake":
		err = intakeMain(os.Args[2:])
	case "storm":
		err = stormMain(os.Args[2:])
	case "scale":
		err = scaleMain(os.Args[2:])
	case "baseline-server":
		err = baselineServer(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

const secret = "load-secret"

// baselineServer verifies the HMAC and decodes the JSON — nothing else —
// behind the same go-githubapp dispatcher and HTTP server settings as tend.
func baselineServer(args []string) error {
	fs := flag.NewFlagSet("baseline-server", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	_ = fs.Parse(args)
	h := githubapp.NewEventDispatcher([]githubapp.EventHandler{decodeOnly{}}, secret)
	mux := http.NewServeMux()
	mux.Handle("POST /api/github/hook", http.MaxBytesHandler(h, 25<<20))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// pushFields are the push fields tend's handler reads; the baseline decodes
// the same ones so that the comparison is about durability, not decoding.
type pushFields struct {
	Action       string `json:"action"`
	Installation struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Repository struct {
		FullName      string `json:"full_name"`
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
	Ref     string `json:"ref"`
	Before  string `json:"before"`
	After   string `json:"after"`
	Forced  bool   `json:"forced"`
	Commits []struct {
		Added, Modified, Removed []string
	} `json:"commits"`
}

type decodeOnly struct{}

func (decodeOnly) Handles() []string { return []string{"push"} }
func (decodeOnly) Handle(ctx context.Context, eventType, deliveryID string, payload []byte) error {
	var p pushFields
	if err := json.Unmarshal(payload, &p); err != nil {
		return githubapp.ValidationError{EventType: eventType, DeliveryID: deliveryID, Cause: err}
	}
	return nil
}

// target is a server under load.
type target struct {
	name   string
	url    string
	client *http.Client
	stop   func()
}

func startBaseline() (*target, error) {
	addr, err := e2e.FreeAddr()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "baseline-server", "-addr", addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &target{name: "baseline", url: "http://" + addr, client: newClient(), stop: func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}}
	for i := 0; i < 500; i++ {
		if resp, err := t.client.Get(t.url + "/healthz"); err == nil {
			resp.Body.Close()
			return t, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.stop()
	return nil, errors.New("baseline did not start")
}

func newClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute}}
}

// pushBody returns a signed-ready push payload for acme/web touching path.
// It is shaped like GitHub's (about 7 KB), not a minimal stub.
func pushBody(i int, path string) []byte {
	sha := fmt.Sprintf("%040x", i+1)
	before := fmt.Sprintf("%040x", i+1_000_000)
	commit := map[string]any{
		"id": sha, "tree_id": sha, "distinct": true, "message": "Update " + path,
		"timestamp": "2026-11-22T10:00:00Z", "url": "https://github.com/acme/web/commit/" + sha,
		"author":    map[string]any{"name": "Mona Lisa", "email": "mona@example.com", "username": "mona"},
		"committer": map[string]any{"name": "Mona Lisa", "email": "mona@example.com", "username": "mona"},
		"added":     []string{}, "removed": []string{}, "modified": []string{path},
	}
	owner := map[string]any{"login": "acme", "id": 100, "node_id": "MDEyOk9yZ2FuaXphdGlvbjEwMA==", "type": "Organization", "site_admin": false,
		"avatar_url": "https://avatars.githubusercontent.com/u/100?v=4", "url": "https://api.github.com/users/acme", "html_url": "https://github.com/acme"}
	repo := map[string]any{
		"id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": "web", "full_name": "acme/web", "private": false,
		"owner": owner, "html_url": "https://github.com/acme/web", "description": "The web app", "fork": false,
		"url": "https://github.com/acme/web", "created_at": 1700000000, "updated_at": "2026-11-22T09:00:00Z", "pushed_at": 1763805600,
		"git_url": "git://github.com/acme/web.git", "ssh_url": "git@github.com:acme/web.git", "clone_url": "https://github.com/acme/web.git",
		"size": 1024, "stargazers_count": 10, "watchers_count": 10, "language": "Go", "has_issues": true, "has_projects": true,
		"forks_count": 1, "open_issues_count": 3, "default_branch": "main", "master_branch": "main", "visibility": "public",
		"topics": []string{"web", "go"}, "archived": false, "disabled": false, "license": nil,
	}
	for _, k := range []string{"keys_url", "collaborators_url", "teams_url", "hooks_url", "issue_events_url", "events_url", "assignees_url", "branches_url", "tags_url", "blobs_url", "git_tags_url", "git_refs_url", "trees_url", "statuses_url", "languages_url", "stargazers_url", "contributors_url", "subscribers_url", "subscription_url", "commits_url", "git_commits_url", "comments_url", "issue_comment_url", "contents_url", "compare_url", "merges_url", "archive_url", "downloads_url", "issues_url", "pulls_url", "milestones_url", "notifications_url", "labels_url", "releases_url", "deployments_url"} {
		repo[k] = "https://api.github.com/repos/acme/web/" + strings.TrimSuffix(k, "_url") + "{/id}"
	}
	body, _ := json.Marshal(map[string]any{
		"ref": "refs/heads/main", "before": before, "after": sha, "created": false, "deleted": false, "forced": false,
		"base_ref": nil, "compare": "https://github.com/acme/web/compare/" + before[:12] + "..." + sha[:12],
		"commits": []any{commit}, "head_commit": commit, "repository": repo,
		"pusher":       map[string]any{"name": "mona", "email": "mona@example.com"},
		"organization": map[string]any{"login": "acme", "id": 100, "url": "https://api.github.com/orgs/acme", "description": ""},
		"sender":       owner,
		"installation": map[string]any{"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="},
	})
	return body
}

// sample is one delivery's outcome.
type sample struct {
	latency time.Duration
	ok      bool
	status  int    // HTTP status, 0 when the request failed
	err     string // transport error
}

type phaseResult struct {
	name       string
	sent, ok   int
	duration   time.Duration
	p50, p99   time.Duration
	throughput float64
	failures   map[string]int // what the deliveries that were not acknowledged got
}

func summarize(name string, samples []sample, d time.Duration) phaseResult {
	r := phaseResult{name: name, sent: len(samples), duration: d, failures: map[string]int{}}
	var lat []time.Duration
	for _, s := range samples {
		if s.ok {
			r.ok++
			lat = append(lat, s.latency)
			continue
		}
		why := fmt.Sprintf("status %d", s.status)
		if s.err != "" {
			why = s.err
		}
		r.failures[why]++
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		r.p50 = lat[len(lat)*50/100]
		r.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	r.throughput = float64(r.ok) / d.Seconds()
	return r
}

var seq atomic.Int64

func send(t *target, paths int) sample {
	i := int(seq.Add(1))
	body := pushBody(i, fmt.Sprintf("deploy/app-%02d.yaml", i%paths))
	req, _ := http.NewRequest(http.MethodPost, t.url+"/api/github/hook", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", e2e.NewDeliveryID())
	req.Header.Set("X-Hub-Signature-256", e2e.Sign(secret, body))
	start := time.Now()
	resp, err := t.client.Do(req)
	if err != nil {
		return sample{latency: time.Since(start), err: err.Error()}
	}
	drainBody(resp)
	return sample{latency: time.Since(start), ok: resp.StatusCode == http.StatusOK, status: resp.StatusCode}
}

// fixedRate sends rate deliveries a second for d (open loop: a slow server
// does not slow the sender down), bounded to maxInFlight outstanding.
func fixedRate(t *target, rate int, d time.Duration, paths int) phaseResult {
	interval := time.Second / time.Duration(rate)
	total := int(d.Seconds() * float64(rate))
	samples := make([]sample, total)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2000)
	start := time.Now()
	for i := 0; i < total; i++ {
		next := start.Add(time.Duration(i) * interval)
		if w := time.Until(next); w > 0 {
			time.Sleep(w)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			samples[i] = send(t, paths)
			<-sem
		}(i)
	}
	wg.Wait()
	return summarize(fmt.Sprintf("%d/s", rate), samples, time.Since(start))
}

// saturate sends with workers concurrent senders as fast as answers come.
func saturate(t *target, workers int, d time.Duration, paths int) phaseResult {
	var mu sync.Mutex
	var samples []sample
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []sample
			for time.Now().Before(deadline) {
				mine = append(mine, send(t, paths))
			}
			mu.Lock()
			samples = append(samples, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return summarize(fmt.Sprintf("saturation (%d senders)", workers), samples, time.Since(start))
}

const loadConfig = `version: 1
rules:
  - name: pin
    reconciler: images
    paths: ["deploy/*.yaml"]
`

func startTend(gh *fakegithub.Server, extra map[string]string) (*target, error) {
	env := map[string]string{
		"GITHUB_APP_INTEGRATION_ID": strconv.FormatInt(gh.AppID(), 10),
		"GITHUB_APP_PRIVATE_KEY":    string(gh.AppKeyPEM()),
		"GITHUB_APP_WEBHOOK_SECRET": secret,
		"GITHUB_V3_API_URL":         gh.URL(),
		"TEND_LOG_LEVEL":            "warn",
	}
	for k, v := range extra {
		env[k] = v
	}
	dir, err := os.MkdirTemp("", "tend-load")
	if err != nil {
		return nil, err
	}
	env["TEND_DATA_DIR"] = dir
	tend, err := e2e.Start(e2e.Options{Env: env, Log: os.Stderr})
	if err != nil {
		return nil, err
	}
	return &target{name: "tend", url: tend.URL, client: newClient(), stop: func() {
		_ = tend.Stop()
		_ = os.RemoveAll(dir)
	}}, nil
}

func intakeMain(args []string) error {
	fs := flag.NewFlagSet("intake", flag.ExitOnError)
	duration := fs.Duration("duration", 10*time.Second, "length of each phase")
	rates := fs.String("rates", "100,500,1000", "fixed rates to measure, deliveries per second")
	workers := fs.Int("workers", 64, "concurrent senders at saturation")
	paths := fs.Int("paths", 20, "distinct paths the pushes touch")
	_ = fs.Parse(args)
	var rateList []int
	for _, r := range strings.Split(*rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad rate %q", r)
		}
		rateList = append(rateList, n)
	}

	gh, err := fakegithub.Start(fakegithub.WithRateLimit(0))
	if err != nil {
		return err
	}
	defer gh.Close()
	gh.AddInstallation(1, "acme")
	files := map[string]string{".github/tend.yaml": loadConfig}
	for i := 0; i < *paths; i++ {
		files[fmt.Sprintf("deploy/app-%02d.yaml", i)] = "image: nginx:1.27\n"
	}
	gh.AddRepoWithFiles(1, "acme/web", "main", files)

	base, err := startBaseline()
	if err != nil {
		return err
	}
	defer base.stop()
	tend, err := startTend(gh, nil)
	if err != nil {
		return err
	}
	defer tend.stop()

	// Warm both (connections, tend's config cache) before measuring.
	for _, t := range []*target{base, tend} {
		for i := 0; i < 200; i++ {
			if s := send(t, *paths); !s.ok {
				return fmt.Errorf("%s: warm-up delivery failed", t.name)
			}
		}
	}
	fmt.Printf("# intake load: %s per phase, %d paths, GOMAXPROCS=%s, %s\n\n", *duration, *paths, os.Getenv("GOMAXPROCS"), time.Now().UTC().Format(time.RFC3339))
	fmt.Println("| server | load | sent | acked 200 | deliveries/s | p50 | p99 |")
	fmt.Println("|---|---|---|---|---|---|---|")
	results := map[string]phaseResult{}
	for _, r := range rateList {
		// Interleave the two servers per phase so drift on the machine
		// affects both alike.
		for _, t := range []*target{base, tend} {
			res := fixedRate(t, r, *duration, *paths)
			printRow(t.name, res)
			results[t.name+res.name] = res
		}
	}
	for _, t := range []*target{base, tend} {
		res := saturate(t, *workers, *duration, *paths)
		printRow(t.name, res)
		results[t.name+"sat"] = res
	}
	b, d := results["baselinesat"], results["tendsat"]
	fmt.Printf("\ndurable intake at saturation: %.0f/s vs baseline %.0f/s = %.2fx\n", d.throughput, b.throughput, d.throughput/b.throughput)
	return nil
}

func printRow(name string, r phaseResult) {
	fmt.Printf("| %s | %s | %d | %d | %.0f | %s | %s |\n", name, r.name, r.sent, r.ok, r.throughput, ms(r.p50), ms(r.p99))
	for why, n := range r.failures {
		fmt.Fprintf(os.Stderr, "%s %s: %d not acknowledged: %s\n", name, r.name, n, why)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
