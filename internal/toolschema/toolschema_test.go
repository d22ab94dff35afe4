package toolschema

import (
	"slices"
	"testing"

	"google.golang.org/genai"
)

type common struct {
	Path string `json:"path" description:"a path"`
}

type example struct {
	common
	Limit   int    `json:"limit,omitempty" description:"how many"`
	Verbose bool   `json:"verbose,omitempty"`
	Skipped string `json:"-"`
}

func TestOf(t *testing.T) {
	s, err := Of(example{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Type != genai.TypeObject || !slices.Equal(s.PropertyOrdering, []string{"path", "limit", "verbose"}) || !slices.Equal(s.Required, []string{"path"}) {
		t.Fatalf("schema %+v", s)
	}
	if p := s.Properties["path"]; p.Type != genai.TypeString || p.Description != "a path" {
		t.Errorf("path: %+v", p)
	}
	if p := s.Properties["limit"]; p.Type != genai.TypeInteger || p.Description != "how many" {
		t.Errorf("limit: %+v", p)
	}
	if p := s.Properties["verbose"]; p.Type != genai.TypeBoolean {
		t.Errorf("verbose: %+v", p)
	}
	if !slices.Equal(Names(s), []string{"path", "limit", "verbose"}) {
		t.Errorf("names %v", Names(s))
	}
	if s, err := Of(struct{}{}); err != nil || len(s.Properties) != 0 || s.Required != nil {
		t.Errorf("empty parameters: %+v, %v", s, err)
	}
}

func TestOfRefusesWhatItCannotDescribe(t *testing.T) {
	for name, v := range map[string]any{
		"not a struct": "x",
		"nil":          nil,
		"slice field": struct {
			Paths []string `json:"paths"`
		}{},
		"twice": struct {
			common
			Path string `json:"path"`
		}{},
	} {
		if _, err := Of(v); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
