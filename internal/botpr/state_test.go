package botpr

import (
	"strings"
	"testing"
)

func TestStateRoundTrip(t *testing.T) {
	s := State{Key: "acme/web:docs:docs/a-->b<c.md", Hash: "abc", Base: "1234", Extra: map[string]string{"x": "-->"}}
	body := "Some text\n\n" + FormatState(s) + "\n"
	if strings.Count(body, "-->") != 1 {
		t.Fatalf("the block can be closed early: %q", body)
	}
	got, ok := ParseState(body)
	if !ok || got.Key != s.Key || got.Hash != "abc" || got.Extra["x"] != "-->" || got.Version != 1 {
		t.Fatalf("ParseState = %+v, %v", got, ok)
	}
}

func TestStateLastValidBlockWins(t *testing.T) {
	first := FormatState(State{Key: "acme/web:r:a"})
	second := FormatState(State{Key: "acme/web:r:b"})
	body := first + "\n" + second + "\n<!-- tend:state {broken -->"
	got, ok := ParseState(body)
	if !ok || got.Key != "acme/web:r:b" {
		t.Fatalf("got %+v", got)
	}
	for _, bad := range []string{"", "<!-- tend:state -->", `<!-- tend:state {"v":1,"key":"../x"} -->`, `<!-- tend:state {"v":0,"key":"a/b:r:x"} -->`, "<!-- tend:state {\"v\":1,\"key\":\"a/b:r\"}"} {
		if s, ok := ParseState(bad); ok {
			t.Errorf("ParseState(%q) = %+v, want none", bad, s)
		}
	}
}

func FuzzParseState(f *testing.F) {
	f.Add(FormatState(State{Key: "acme/web:r:a", Hash: "h"}))
	f.Add("<!-- tend:state {\"v\":1} -->")
	f.Fuzz(func(t *testing.T, body string) {
		s, ok := ParseState(body)
		if ok {
			if _, ok2 := StateKey(FormatState(s)); !ok2 {
				t.Fatalf("a parsed state does not round-trip: %+v", s)
			}
		}
	})
}
