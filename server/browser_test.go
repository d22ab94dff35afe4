package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tend-app/tend/internal/fixtures"
)

// browser starts headless Chromium for a test. Without Chromium the test
// is skipped, unless TEND_TEST_BROWSER=required (set by .ci/test, which
// installs Debian's chromium package when it is missing).
func browser(t *testing.T) context.Context {
	t.Helper()
	ctx := maybeBrowser(t)
	if ctx == nil {
		t.Skip("no chromium on PATH (apt-get install chromium); set TEND_TEST_BROWSER=required to fail instead")
	}
	return ctx
}

// maybeBrowser is browser for tests whose browser part is optional: nil
// without Chromium (unless TEND_TEST_BROWSER=required).
func maybeBrowser(t *testing.T) context.Context {
	t.Helper()
	var exe string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		if os.Getenv("TEND_TEST_BROWSER") == "required" {
			t.Fatal("no chromium on PATH and TEND_TEST_BROWSER=required")
		}
		return nil
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // tests may run as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1000, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first run starts the browser, which lives as long as ctx: no
	// timeout on it. Each step is bounded by the test's own deadline.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step bounds one browser step.
func step(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 30*time.Second)
}

// screenshot saves the whole page as .cache/artifacts/NAME.png (ignored by
// git) for people to look at.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	root, err := fixtures.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, ".cache", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := step(ctx)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
