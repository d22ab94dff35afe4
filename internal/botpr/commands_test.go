package botpr

import (
	"strings"
	"testing"
)

// The ledger stays within the state block's parse limit however much
// people write, and survives a round trip through a PR body.
func TestCommandsBounded(t *testing.T) {
	var c Commands
	for i := 0; i < 50; i++ {
		c.AddInstructions(strings.Repeat("<x>", 1000))
		c.Deny(strings.Repeat("u", 39) + string(rune('a'+i%26)) + string(rune('a'+i/26)))
		c.Want(true, false, int64(i))
	}
	if !c.Deny("someone") || c.Deny("someone") {
		t.Errorf("Deny must report a new login once")
	}
	st := State{Key: "acme/web:r:a", Cmd: &c}
	block := FormatState(st)
	if len(block) > maxStateLen {
		t.Fatalf("state block of %d bytes exceeds the parse limit", len(block))
	}
	got, ok := ParseState("body\n" + block)
	if !ok || got.Cmd == nil || len(got.Cmd.Instructions) != len(c.Instructions) || got.Cmd.Pending == nil || len(got.Cmd.Pending.Ack) != maxAck {
		t.Fatalf("round trip: %+v", got.Cmd)
	}
	var one Commands
	one.AddInstructions(strings.Repeat("<", 4000))
	if len(one.Instructions) != 1 || len(one.Instructions[0]) == 0 || len(FormatState(State{Key: "a/b:r:c", Cmd: &one})) > maxStateLen {
		t.Errorf("one long instruction is kept, cut to fit: %d", len(one.Instructions))
	}
	if (&Commands{}).Empty() != true || c.Empty() {
		t.Errorf("Empty is wrong")
	}
}
