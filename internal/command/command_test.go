package command

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		kind Kind
		text string
	}{
		{"/reconcile", true, Reconcile, ""},
		{"  \n/reconcile  \n", true, Reconcile, ""},
		{"/reconcile recreate", true, Recreate, ""},
		{"/reconcile RECREATE ", true, Recreate, ""},
		{"/reconcile skip", true, Skip, ""},
		{"/reconcile skip please", true, Help, ""},
		{"/reconcile recreate\nand also fix x", true, Help, ""},
		{"/reconcile help", true, Help, ""},
		{"/reconciles", true, Help, ""},
		{"/reconcile-all", true, Help, ""},
		{"/reconcile use tabs, not spaces", true, Instruct, "use tabs, not spaces"},
		{"/reconcile\nline one\nline two", true, Instruct, "line one\nline two"},
		{"/reconcile keep \x00the\x1b header", true, Instruct, "keep the header"},
		{"> /reconcile", false, 0, ""},
		{"please /reconcile", false, 0, ""},
		{"/Reconcile", false, 0, ""},
		{"", false, 0, ""},
		{"LGTM", false, 0, ""},
	} {
		got, ok := Parse(tc.in)
		if ok != tc.ok || got.Kind != tc.kind || got.Text != tc.text {
			t.Errorf("Parse(%q) = %+v, %v; want %v %q, %v", tc.in, got, ok, tc.kind, tc.text, tc.ok)
		}
	}
}

func TestParseCommandBoundsText(t *testing.T) {
	got, ok := Parse("/reconcile " + strings.Repeat("é", MaxInstructionLen))
	if !ok || got.Kind != Instruct || len(got.Text) > MaxInstructionLen || !utf8.ValidString(got.Text) {
		t.Fatalf("len %d valid %v", len(got.Text), utf8.ValidString(got.Text))
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/reconcile", "/reconcile recreate", "/reconcile skip", "/reconcile do x\ny", "/reconcilex", " /reconcile\t\u00a0x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		c, ok := Parse(body)
		if !ok {
			if strings.HasPrefix(strings.TrimSpace(body), Prefix) {
				t.Fatalf("a /reconcile comment was not recognised: %q", body)
			}
			return
		}
		if c.Kind < Reconcile || c.Kind > Help {
			t.Fatalf("bad kind %v", c.Kind)
		}
		if c.Kind == Instruct && (c.Text == "" || len(c.Text) > MaxInstructionLen || !utf8.ValidString(c.Text)) {
			t.Fatalf("bad instructions %q", c.Text)
		}
		if c.Kind != Instruct && c.Text != "" {
			t.Fatalf("text on a %v", c.Kind)
		}
	})
}
