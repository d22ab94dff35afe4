package handlers

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		kind CommandKind
		text string
	}{
		{"/reconcile", true, CommandReconcile, ""},
		{"  \n/reconcile  \n", true, CommandReconcile, ""},
		{"/reconcile recreate", true, CommandRecreate, ""},
		{"/reconcile RECREATE ", true, CommandRecreate, ""},
		{"/reconcile skip", true, CommandSkip, ""},
		{"/reconcile skip please", true, CommandHelp, ""},
		{"/reconcile recreate\nand also fix x", true, CommandHelp, ""},
		{"/reconcile help", true, CommandHelp, ""},
		{"/reconciles", true, CommandHelp, ""},
		{"/reconcile-all", true, CommandHelp, ""},
		{"/reconcile use tabs, not spaces", true, CommandInstruct, "use tabs, not spaces"},
		{"/reconcile\nline one\nline two", true, CommandInstruct, "line one\nline two"},
		{"/reconcile keep \x00the\x1b header", true, CommandInstruct, "keep the header"},
		{"> /reconcile", false, 0, ""},
		{"please /reconcile", false, 0, ""},
		{"/Reconcile", false, 0, ""},
		{"", false, 0, ""},
		{"LGTM", false, 0, ""},
	} {
		got, ok := ParseCommand(tc.in)
		if ok != tc.ok || got.Kind != tc.kind || got.Text != tc.text {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %v %q, %v", tc.in, got, ok, tc.kind, tc.text, tc.ok)
		}
	}
}

func TestParseCommandBoundsText(t *testing.T) {
	got, ok := ParseCommand("/reconcile " + strings.Repeat("é", MaxInstructionLen))
	if !ok || got.Kind != CommandInstruct || len(got.Text) > MaxInstructionLen || !utf8.ValidString(got.Text) {
		t.Fatalf("len %d valid %v", len(got.Text), utf8.ValidString(got.Text))
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/reconcile", "/reconcile recreate", "/reconcile skip", "/reconcile do x\ny", "/reconcilex", " /reconcile\t\u00a0x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		c, ok := ParseCommand(body)
		if !ok {
			if strings.HasPrefix(strings.TrimSpace(body), commandPrefix) {
				t.Fatalf("a /reconcile comment was not recognised: %q", body)
			}
			return
		}
		if c.Kind < CommandReconcile || c.Kind > CommandHelp {
			t.Fatalf("bad kind %v", c.Kind)
		}
		if c.Kind == CommandInstruct && (c.Text == "" || len(c.Text) > MaxInstructionLen || !utf8.ValidString(c.Text)) {
			t.Fatalf("bad instructions %q", c.Text)
		}
		if c.Kind != CommandInstruct && c.Text != "" {
			t.Fatalf("text on a %v", c.Kind)
		}
	})
}
