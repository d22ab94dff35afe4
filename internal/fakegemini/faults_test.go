package fakegemini_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/genai"

	"github.com/tend-app/tend/internal/fakegemini"
	"github.com/tend-app/tend/internal/testwait"
)

// The faults the Gemini API answers with, as the real client sees them.
func TestFaultReplies(t *testing.T) {
	srv := fakegemini.New(t,
		fakegemini.QuotaExceeded(1500*time.Millisecond),
		fakegemini.QuotaExceeded(0),
		fakegemini.Unavailable(300*time.Millisecond),
		fakegemini.Unavailable(0),
		fakegemini.WithRetryInfo(2*time.Second, fakegemini.Error(500, nil, "")),
		fakegemini.Truncated(0, fakegemini.Call("read_file", map[string]any{"path": "a"})),
		fakegemini.Disconnect(),
	)
	c := newClient(t, srv)
	call := func() error {
		_, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
		return err
	}
	wantAPI := func(what string, err error, code int, status, delay string) {
		t.Helper()
		var apiErr genai.APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("%s: err = %T %v, want genai.APIError", what, err, err)
		}
		if apiErr.Code != code || apiErr.Status != status {
			t.Errorf("%s: %d %s, want %d %s", what, apiErr.Code, apiErr.Status, code, status)
		}
		got := ""
		for _, d := range apiErr.Details {
			if d["@type"] == "type.googleapis.com/google.rpc.RetryInfo" {
				got, _ = d["retryDelay"].(string)
			}
		}
		if got != delay {
			t.Errorf("%s: retryDelay %q, want %q (details %v)", what, got, delay, apiErr.Details)
		}
	}
	err := call()
	wantAPI("quota with RetryInfo", err, 429, "RESOURCE_EXHAUSTED", "1.500s")
	if !strings.Contains(err.Error(), "Please retry in 1.500s") || !strings.Contains(err.Error(), "quota") {
		t.Errorf("quota message: %v", err)
	}
	wantAPI("quota without RetryInfo", call(), 429, "RESOURCE_EXHAUSTED", "")
	wantAPI("overloaded with RetryInfo", call(), 503, "UNAVAILABLE", "0.300s")
	wantAPI("overloaded", call(), 503, "UNAVAILABLE", "")
	wantAPI("500 with RetryInfo", call(), 500, "INTERNAL", "2s")

	// Broken JSON in a complete 200 answer: a decoding error, no panic.
	err = call()
	var apiErr genai.APIError
	if err == nil || errors.As(err, &apiErr) {
		t.Errorf("truncated body: err = %v, want a decoding error", err)
	}
	// No answer at all: a transport error.
	if err := call(); err == nil || !strings.Contains(err.Error(), "EOF") {
		t.Errorf("disconnect: err = %v, want EOF", err)
	}
}

// An answer the client never read — cut off, or given up on — leaves no
// echo expectation: the retry of the same conversation is not a violation.
func TestUnreadAnswersSetNoEchoExpectation(t *testing.T) {
	srv := fakegemini.New(t,
		fakegemini.Call("read_file", map[string]any{"path": "a"}),
		fakegemini.Truncated(40, fakegemini.Call("read_file", map[string]any{"path": "b"})),
		fakegemini.Delayed(30*time.Second, fakegemini.Call("read_file", map[string]any{"path": "c"})),
		fakegemini.Text("done"),
	)
	c := newClient(t, srv)
	resp, err := c.Models.GenerateContent(ctx(t), model, genai.Text("go"), config())
	if err != nil {
		t.Fatal(err)
	}
	history := []*genai.Content{
		genai.NewContentFromText("go", genai.RoleUser),
		resp.Candidates[0].Content,
		{Role: genai.RoleUser, Parts: []*genai.Part{{FunctionResponse: &genai.FunctionResponse{Name: "read_file", Response: map[string]any{"content": "A"}}}}},
	}
	if _, err := c.Models.GenerateContent(ctx(t), model, history, config()); err == nil {
		t.Fatal("a truncated answer decoded")
	}
	short, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := c.Models.GenerateContent(short, model, history, config()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed answer: err = %v, want a deadline", err)
	}
	// The retry carries the first call's turn, the only one the client read.
	// (The server notices the abandoned answer when the client's connection
	// closes.)
	testwait.For(t, 5*time.Second, func() bool {
		reqs := srv.Requests()
		return len(reqs) > 2 && reqs[2].Abandoned
	}, "the server notices the abandoned answer")
	if _, err := c.Models.GenerateContent(ctx(t), model, history, config()); err != nil {
		t.Fatal(err)
	}
	if v := srv.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}
