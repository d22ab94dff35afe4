package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"google.golang.org/genai"
)

// Model is the one call tend makes to a model.
type Model interface {
	Generate(ctx context.Context, model string, contents []*genai.Content, cfg *genai.GenerateContentConfig) (*genai.GenerateContentResponse, error)
}

// ErrNoCredentials means no model credentials are configured.
var ErrNoCredentials = errors.New("no model credentials: set GEMINI_API_KEY, or GOOGLE_GENAI_USE_VERTEXAI with GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION")

// NewGenAIModel builds a Model on google.golang.org/genai, which reads its
// credentials and base URL from the environment the way it documents
// (GEMINI_API_KEY or GOOGLE_API_KEY; GOOGLE_GENAI_USE_VERTEXAI,
// GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_LOCATION; GOOGLE_GEMINI_BASE_URL).
// genai's own retries stay off: tend retries itself, honouring the delay
// the API asks for, and requeues the key when the model stays unavailable.
func NewGenAIModel(ctx context.Context, httpClient *http.Client) (Model, error) {
	c, err := genai.NewClient(ctx, &genai.ClientConfig{HTTPClient: httpClient})
	if err != nil {
		// genai appends a dump of its whole ClientConfig to the reason,
		// which check runs and `tend plan` do not need.
		why, _, _ := strings.Cut(err.Error(), ". ClientConfig:")
		return nil, fmt.Errorf("%w (%s)", ErrNoCredentials, why)
	}
	return genaiModel{c}, nil
}

type genaiModel struct{ c *genai.Client }

func (m genaiModel) Generate(ctx context.Context, model string, contents []*genai.Content, cfg *genai.GenerateContentConfig) (resp *genai.GenerateContentResponse, err error) {
	// genai v1.77.0 panics on some well-formed JSON of the wrong shape; a
	// broken answer must not take the worker down.
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, &transientError{err: fmt.Errorf("the model's answer could not be read: %v", r)}
		}
	}()
	return m.c.Models.GenerateContent(ctx, model, contents, cfg)
}

// transientError is a model failure worth retrying.
type transientError struct {
	err   error
	delay time.Duration // what the API asked for, if anything
}

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// classify decides whether a model error is worth retrying, and after how
// long the API asked to be called again.
func classify(err error) (transient bool, delay time.Duration) {
	var te *transientError
	if errors.As(err, &te) {
		return true, te.delay
	}
	var apiErr genai.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.Code {
		case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusRequestTimeout:
			return true, retryInfo(apiErr.Details)
		}
		return false, 0
	}
	// A transport failure, or an answer that is not the JSON it should be
	// (cut off, or of the wrong shape): the same request may well succeed.
	var ne net.Error
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &ne), errors.As(err, &syntax), errors.As(err, &typeErr),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		strings.Contains(err.Error(), "connection reset"), strings.Contains(err.Error(), "EOF"):
		return true, 0
	}
	return false, 0
}

// retryInfo reads google.rpc.RetryInfo's retryDelay ("7s") from an error's
// details: that is where the Gemini API says how long to wait (genai does
// not expose the Retry-After header).
func retryInfo(details []map[string]any) time.Duration {
	for _, d := range details {
		t, _ := d["@type"].(string)
		if !strings.HasSuffix(t, "RetryInfo") {
			continue
		}
		if s, ok := d["retryDelay"].(string); ok {
			if v, err := time.ParseDuration(s); err == nil && v > 0 {
				return v
			}
		}
	}
	return 0
}

// backoff is the wait after failed try n (1-based) when the API named
// none: base doubled n-1 times (at most 64 times), less up to half of it
// as jitter.
func backoff(base time.Duration, n int) time.Duration {
	d := base << min(n-1, 6)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
