package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
)

// Bounds on what is read of a job's log and what the model sees of it.
const (
	maxLogDownload = 32 << 20 // read at most this much of a log
	logWindow      = 64 << 10 // keep the last this many bytes while reading
	maxLogTail     = 6000     // the model sees at most this many bytes
	maxLogLines    = 120      // ... and this many lines
)

var (
	// ansiRE matches ANSI escape sequences (colours, cursor moves).
	ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]`)
	// stampRE matches the timestamp GitHub Actions puts before each line.
	stampRE = regexp.MustCompile(`(?m)^\x{feff}?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?`)
)

// logClient downloads job logs from the short-lived URL GitHub redirects
// to. It sends no credentials: the URL carries its own signature.
var logClient = &http.Client{Timeout: 30 * time.Second}

// jobLogTail returns the cleaned tail of a GitHub Actions job's log:
// GET .../actions/jobs/{id}/logs answers 302 to a download URL, of which
// at most maxLogDownload bytes are read and the last lines kept.
func jobLogTail(ctx context.Context, client *github.Client, owner, repo string, jobID int64) (string, error) {
	u, _, err := client.Actions.GetWorkflowJobLogs(ctx, owner, repo, jobID, 0)
	if err != nil {
		return "", fmt.Errorf("find the log of job %d: %w", jobID, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("the log of job %d is at an unexpected URL scheme %q", jobID, u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("download the log of job %d: %w", jobID, err)
	}
	resp, err := logClient.Do(req)
	if err != nil {
		// The URL is signed: never repeat it in an error.
		return "", fmt.Errorf("download the log of job %d: %w", jobID, redactURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download the log of job %d: status %d", jobID, resp.StatusCode)
	}
	raw, err := readTail(io.LimitReader(resp.Body, maxLogDownload), logWindow)
	if err != nil {
		return "", fmt.Errorf("download the log of job %d: %w", jobID, redactURL(err))
	}
	return cleanLogTail(raw), nil
}

// redactURL drops the (signed) URL from an HTTP client error.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// readTail reads r to its end and returns its last n bytes.
func readTail(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, 2*n)
	chunk := make([]byte, 32<<10)
	for {
		k, err := r.Read(chunk)
		buf = append(buf, chunk[:k]...)
		if len(buf) > 2*n {
			buf = append(buf[:0], buf[len(buf)-n:]...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(buf) > n {
		buf = buf[len(buf)-n:]
	}
	return buf, nil
}

// cleanLogTail strips ANSI codes and timestamps, and keeps the last lines
// within maxLogTail bytes, starting at a whole line.
func cleanLogTail(raw []byte) string {
	s := strings.ToValidUTF8(string(raw), "\uFFFD")
	s = ansiRE.ReplaceAllString(s, "")
	s = stampRE.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > maxLogLines {
		lines = lines[len(lines)-maxLogLines:]
	}
	out := strings.Join(lines, "\n")
	for len(out) > maxLogTail {
		i := strings.IndexByte(out, '\n')
		if i < 0 {
			out = out[len(out)-maxLogTail:] // one huge line: keep its end
			break
		}
		out = out[i+1:]
	}
	return strings.ToValidUTF8(out, "")
}
