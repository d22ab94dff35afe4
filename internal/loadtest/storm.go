package main

import (
	"github.com/tend-app/tend/internal/botpr"

	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/tend-app/tend/handlers"
	"github.com/tend-app/tend/internal/config"
	"github.com/tend-app/tend/internal/e2e"
	"github.com/tend-app/tend/internal/fakegithub"
	"github.com/tend-app/tend/internal/queue"
	"github.com/tend-app/tend/internal/store"
	"github.com/tend-app/tend/internal/worker"
	"github.com/tend-app/tend/reconcilers"
)

// stormConfig shapes a storm.
type stormConfig struct {
	Deliveries int
	Paths      int
	Within     time.Duration
	Reconcile  time.Duration
	Settle     time.Duration // queue.NoSettle disables the quiet period
	Senders    int
	Timeout    time.Duration
}

type run struct {
	key        string
	start, end time.Time
}

type stormResult struct {
	cfg          stormConfig
	sendTime     time.Duration
	acked        int
	runsPerPath  map[string]int
	lost         []string // paths whose last event has no run after it
	drainedAfter time.Duration
	peakRSS      int64 // of this whole process (tend's parts, the fake GitHub and the senders)
}

// runStorm sends cfg.Deliveries signed push deliveries touching cfg.Paths
// paths within cfg.Within through the real handlers, queue and worker (on
// SQLite in a temporary directory), with a reconciler that takes
// cfg.Reconcile, and waits until every key has run after its last event.
func runStorm(cfg stormConfig) (*stormResult, error) {
	ctx := context.Background()
	gh, err := fakegithub.Start(fakegithub.WithRateLimit(0))
	if err != nil {
		return nil, err
	}
	defer gh.Close()
	gh.AddInstallation(1, "acme")
	files := map[string]string{".github/tend.yaml": loadConfig}
	for i := 0; i < cfg.Paths; i++ {
		files[pathN(i)] = "image: nginx:1.27\n"
	}
	gh.AddRepoWithFiles(1, "acme/web", "main", files)

	dir, err := os.MkdirTemp("", "tend-storm")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()

	ghc := gh.AppConfig()
	ghc.App.WebhookSecret = secret
	clients, err := githubapp.NewDefaultCachingClientCreator(ghc)
	if err != nil {
		return nil, err
	}
	appClient, err := clients.NewAppClient()
	if err != nil {
		return nil, err
	}
	configs := config.NewCache(config.NewLoader(), st)

	var mu sync.Mutex
	var runs []run
	slow := reconcilers.Func(func(ctx context.Context, req reconcilers.Request) (reconcilers.Result, error) {
		r := run{key: req.Key.String(), start: time.Now()}
		select {
		case <-time.After(cfg.Reconcile):
		case <-ctx.Done():
			return reconcilers.Result{}, ctx.Err()
		}
		r.end = time.Now()
		mu.Lock()
		runs = append(runs, r)
		mu.Unlock()
		return reconcilers.Result{Outcome: "slept"}, nil
	})
	worker := &worker.Worker{
		Clients:       clients,
		Installations: githubapp.NewCachingInstallationsService(githubapp.NewInstallationsService(appClient), time.Hour, time.Hour),
		Configs:       configs,
		Reconcilers:   map[string]reconcilers.Reconciler{"images": slow},
	}
	q, err := queue.New(ctx, st, worker, queue.Options{
		Settle: cfg.Settle, Workers: 8, PollInterval: 100 * time.Millisecond, Logger: zerolog.Nop(),
	})
	if err != nil {
		return nil, err
	}
	if err := q.Start(ctx); err != nil {
		return nil, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = q.Stop(sctx)
	}()
	dispatcher := githubapp.NewEventDispatcher(handlers.All(handlers.Deps{
		Clients: clients, Configs: configs, Index: st, Queue: q, Identity: botpr.NewIdentity(gh.AppID(), "tend"),
	}), secret)
	srv := httptest.NewServer(http.MaxBytesHandler(dispatcher, 25<<20))
	defer srv.Close()
	t := &target{name: "storm", url: srv.URL, client: newClient()}

	// Send: deliveries spread evenly over Within, from Senders goroutines.
	lastAck := make([]time.Time, cfg.Paths)
	var ackMu sync.Mutex
	acked := 0
	interval := cfg.Within / time.Duration(cfg.Deliveries)
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	var sendErr error
	for s := 0; s < cfg.Senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p := i % cfg.Paths
				if !deliverPush(t, i, pathN(p)) {
					ackMu.Lock()
					sendErr = fmt.Errorf("delivery %d was not acknowledged", i)
					ackMu.Unlock()
					continue
				}
				ackMu.Lock()
				acked++
				if now := time.Now(); now.After(lastAck[p]) {
					lastAck[p] = now
				}
				ackMu.Unlock()
			}
		}()
	}
	for i := 0; i < cfg.Deliveries; i++ {
		if w := time.Until(start.Add(time.Duration(i) * interval)); w > 0 {
			time.Sleep(w)
		}
		next <- i
	}
	close(next)
	wg.Wait()
	sent := time.Since(start)
	if sendErr != nil {
		return nil, sendErr
	}

	// Wait until every path has run after its last acknowledged event.
	res := &stormResult{cfg: cfg, sendTime: sent, acked: acked}
	deadline := time.Now().Add(cfg.Timeout)
	for {
		mu.Lock()
		res.runsPerPath = map[string]int{}
		lastStart := map[string]time.Time{}
		for _, r := range runs {
			p := r.key[strings.LastIndexByte(r.key, ':')+1:]
			res.runsPerPath[p]++
			if r.start.After(lastStart[p]) {
				lastStart[p] = r.start
			}
		}
		mu.Unlock()
		res.lost = nil
		for i := 0; i < cfg.Paths; i++ {
			if !lastStart[pathN(i)].After(lastAck[i]) {
				res.lost = append(res.lost, pathN(i))
			}
		}
		if len(res.lost) == 0 {
			res.drainedAfter = time.Since(start) - sent
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Let any follow-up that was still coming land, so it is counted.
	time.Sleep(max(cfg.Settle, 0) + cfg.Reconcile + time.Second)
	mu.Lock()
	res.runsPerPath = map[string]int{}
	for _, r := range runs {
		res.runsPerPath[r.key[strings.LastIndexByte(r.key, ':')+1:]]++
	}
	mu.Unlock()
	if _, peak, err := e2e.ProcMemory(os.Getpid()); err == nil {
		res.peakRSS = peak
	}
	return res, nil
}

func pathN(i int) string { return fmt.Sprintf("deploy/app-%02d.yaml", i) }

func deliverPush(t *target, i int, path string) bool {
	body := pushBody(i, path)
	req, _ := http.NewRequest(http.MethodPost, t.url+"/api/github/hook", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", e2e.NewDeliveryID())
	req.Header.Set("X-Hub-Signature-256", e2e.Sign(secret, body))
	resp, err := t.client.Do(req)
	if err != nil {
		return false
	}
	drainBody(resp)
	return resp.StatusCode == http.StatusOK
}

func (r *stormResult) maxRuns() int {
	m := 0
	for _, n := range r.runsPerPath {
		m = max(m, n)
	}
	return m
}

func (r *stormResult) report() string {
	var b strings.Builder
	counts := make([]int, 0, len(r.runsPerPath))
	total := 0
	for _, n := range r.runsPerPath {
		counts = append(counts, n)
		total += n
	}
	sort.Ints(counts)
	fmt.Fprintf(&b, "storm: %d deliveries over %d paths sent in %s (%d acknowledged), reconcile %s, settle %s\n",
		r.cfg.Deliveries, r.cfg.Paths, r.sendTime.Round(time.Millisecond), r.acked, r.cfg.Reconcile, settleString(r.cfg.Settle))
	fmt.Fprintf(&b, "runs: %d in all; per path min %d, max %d; paths whose last event was not reconciled: %d\n",
		total, first(counts), r.maxRuns(), len(r.lost))
	if len(r.lost) == 0 {
		fmt.Fprintf(&b, "every path reconciled %s after the last delivery was sent\n", r.drainedAfter.Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "peak RSS of the whole program (tend's handlers, queue and worker, the fake GitHub, the senders): %d MB\n", r.peakRSS>>20)
	return b.String()
}

func first(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	return xs[0]
}

func settleString(d time.Duration) string {
	if d < 0 {
		return "off"
	}
	if d == 0 {
		return "default (2s)"
	}
	return d.String()
}

func stormMain(args []string) error {
	fs := flag.NewFlagSet("storm", flag.ExitOnError)
	cfg := stormConfig{}
	fs.IntVar(&cfg.Deliveries, "deliveries", 10000, "deliveries to send")
	fs.IntVar(&cfg.Paths, "paths", 20, "distinct paths they touch")
	fs.DurationVar(&cfg.Within, "within", 10*time.Second, "time to send them in")
	fs.DurationVar(&cfg.Reconcile, "reconcile", 200*time.Millisecond, "time each reconcile takes")
	fs.DurationVar(&cfg.Settle, "settle", 0, "quiet period (0: tend's default; negative: off)")
	fs.IntVar(&cfg.Senders, "senders", 32, "concurrent senders")
	fs.DurationVar(&cfg.Timeout, "timeout", 2*time.Minute, "give up waiting for the queue to drain after this")
	_ = fs.Parse(args)
	if cfg.Settle < 0 {
		cfg.Settle = queue.NoSettle
	}
	res, err := runStorm(cfg)
	if err != nil {
		return err
	}
	fmt.Print(res.report())
	if len(res.lost) > 0 {
		return errors.New("events were lost")
	}
	return nil
}
