// Package e2e runs the real tend server binary as a child process on
// 127.0.0.1 and drives it over HTTP, for end-to-end tests and load programs:
// it builds the binary once, starts it with an environment pointing at fakes,
// waits until it answers, signs and posts webhook deliveries, and stops it.
package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tend-app/tend/internal/fixtures"
	"github.com/tend-app/tend/internal/testwait"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds the tend server once per process and returns its path.
// TEND_E2E_BINARY names a prebuilt binary to use instead (for example one
// built with -tags pprof).
func Binary() (string, error) {
	if b := os.Getenv("TEND_E2E_BINARY"); b != "" {
		return b, nil
	}
	buildOnce.Do(func() {
		root, err := fixtures.ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "tend-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "tend")
		cmd := exec.Command("go", "build", "-o", buildPath, "./server")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build tend: %v\n%s", err, out)
		}
	})
	return buildPath, buildErr
}

// FreeAddr returns a free 127.0.0.1 address.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Options start a tend process.
type Options struct {
	// Env is added to a minimal environment (PATH, HOME); TEND_ADDR and
	// TEND_DATA_DIR are set unless given.
	Env     map[string]string
	DataDir string
	// Log receives the process's stdout and stderr (default: discarded).
	Log io.Writer
}

// Tend is a running tend process.
type Tend struct {
	URL     string
	DataDir string
	Secret  string
	cmd     *exec.Cmd
	done    chan struct{}
	exitErr error
	client  *http.Client
}

// Start runs tend and waits until /healthz answers.
func Start(opts Options) (*Tend, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"),
		"TEND_LOG_LEVEL": "debug",
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	if env["TEND_ADDR"] == "" {
		addr, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		env["TEND_ADDR"] = addr
	}
	if opts.DataDir != "" {
		env["TEND_DATA_DIR"] = opts.DataDir
	}
	if env["TEND_DATA_DIR"] == "" {
		d, err := os.MkdirTemp("", "tend-e2e-data")
		if err != nil {
			return nil, err
		}
		env["TEND_DATA_DIR"] = d
	}
	cmd := exec.Command(bin)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := opts.Log
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start tend: %w", err)
	}
	t := &Tend{
		URL: "http://" + env["TEND_ADDR"], DataDir: env["TEND_DATA_DIR"], Secret: env["GITHUB_APP_WEBHOOK_SECRET"],
		cmd: cmd, done: make(chan struct{}),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 0}},
	}
	go func() { t.exitErr = cmd.Wait(); close(t.done) }()
	healthy := testwait.Until(60*time.Second, func() bool {
		if !t.Alive() {
			return true
		}
		resp, err := t.client.Get(t.URL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !t.Alive() {
		return nil, fmt.Errorf("tend exited during start: %v", t.exitErr)
	}
	if !healthy {
		t.Kill()
		return nil, fmt.Errorf("tend did not answer /healthz within 60s")
	}
	return t, nil
}

// Alive reports whether the process is still running.
func (t *Tend) Alive() bool {
	select {
	case <-t.done:
		return false
	default:
		return true
	}
}

// Memory returns the process's resident set size now and at its peak, in
// bytes, for tests and load programs that bound tend's memory.
func (t *Tend) Memory() (rss, peak int64, err error) {
	return ProcMemory(t.cmd.Process.Pid)
}

// ProcMemory returns a process's resident set size now and at its peak,
// in bytes (VmRSS and VmHWM in /proc/PID/status; Linux only).
func ProcMemory(pid int) (rss, peak int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read the status of process %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("parse %s %q: %w", name, v, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	if peak == 0 {
		return 0, 0, errors.New("no VmHWM in /proc status")
	}
	return rss, peak, nil
}

// ResetPeakMemory starts a new peak RSS measurement (writing 5 to
// /proc/PID/clear_refs resets VmHWM to the current RSS).
func (t *Tend) ResetPeakMemory() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", t.cmd.Process.Pid), []byte("5"), 0)
}

// Stop sends SIGTERM and waits for a clean exit.
func (t *Tend) Stop() error {
	if !t.Alive() {
		return t.exitErr
	}
	_ = t.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-t.done:
		return t.exitErr
	case <-time.After(45 * time.Second):
		t.Kill()
		return fmt.Errorf("tend did not stop within 45s of SIGTERM")
	}
}

// Kill sends SIGKILL to the process.
func (t *Tend) Kill() {
	if t.Alive() {
		_ = syscall.Kill(-t.cmd.Process.Pid, syscall.SIGKILL)
		<-t.done
	}
}

// Sign returns the X-Hub-Signature-256 value for body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// NewDeliveryID returns a GitHub-style delivery id (a UUID).
func NewDeliveryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Response is tend's answer to a delivery.
type Response struct {
	Status  int
	Body    []byte
	Summary Summary
}

// Summary is the JSON body tend answers handled deliveries with.
type Summary struct {
	Keys      []string `json:"keys"`
	Inserted  int      `json:"inserted"`
	Collapsed int      `json:"collapsed"`
	Duplicate bool     `json:"duplicate"`
	Ignored   string   `json:"ignored"`
}

// Deliver signs body with the process's secret and posts it.
func (t *Tend) Deliver(ctx context.Context, event, deliveryID string, body []byte) (Response, error) {
	return t.Post(ctx, event, deliveryID, body, Sign(t.Secret, body))
}

// Post posts a delivery with the given signature header ("" for none).
func (t *Tend) Post(ctx context.Context, event, deliveryID string, body []byte, signature string) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL+"/api/github/hook", bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/e2e")
	if event != "" {
		req.Header.Set("X-GitHub-Event", event)
	}
	if deliveryID != "" {
		req.Header.Set("X-GitHub-Delivery", deliveryID)
	}
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	return t.Do(req)
}

// Do sends a request to the process and reads the answer.
func (t *Tend) Do(req *http.Request) (Response, error) {
	resp, err := t.client.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Response{}, err
	}
	r := Response{Status: resp.StatusCode, Body: b}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(b, &r.Summary)
	}
	return r, nil
}

// Client is the HTTP client used to talk to the process.
func (t *Tend) Client() *http.Client { return t.client }

// Run runs the tend binary with args (a subcommand) and env, returning its
// combined output and exit code.
func Run(env map[string]string, args ...string) (string, int, error) {
	bin, err := Binary()
	if err != nil {
		return "", -1, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode(), nil
	}
	if err != nil {
		return string(out), -1, err
	}
	return string(out), 0, nil
}

// PeakRSS returns the process's peak resident memory so far, in bytes
// (VmHWM in /proc; Linux only).
func (t *Tend) PeakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", t.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				return 0, fmt.Errorf("parse VmHWM %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", t.cmd.Process.Pid)
}
