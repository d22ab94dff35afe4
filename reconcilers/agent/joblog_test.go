package agent

import (
	"bytes"
	"strings"
	"testing"
)

func TestCleanLogTail(t *testing.T) {
	raw := "\ufeff2024-05-01T10:00:00.1234567Z ##[group]Run go test\r\n" +
		"2024-05-01T10:00:01.0000000Z \x1b[31;1mFAIL\x1b[0m TestX (0.00s)\n" +
		"2024-05-01T10:00:02Z \x1b[?25lexit status 1\n"
	got := cleanLogTail([]byte(raw))
	want := "##[group]Run go test\nFAIL TestX (0.00s)\nexit status 1"
	if got != want {
		t.Errorf("cleanLogTail = %q, want %q", got, want)
	}
	var many strings.Builder
	for i := range 1000 {
		many.WriteString("2024-05-01T10:00:00Z line ")
		many.WriteString(strings.Repeat("x", i%50))
		many.WriteString("\n")
	}
	many.WriteString("the last line\n")
	tail := cleanLogTail([]byte(many.String()))
	if len(tail) > maxLogTail || strings.Count(tail, "\n") >= maxLogLines || !strings.HasSuffix(tail, "the last line") || !strings.HasPrefix(tail, "line ") {
		t.Errorf("tail: %d bytes, %d lines, ends %q", len(tail), strings.Count(tail, "\n")+1, tail[max(0, len(tail)-20):])
	}
	if huge := cleanLogTail(bytes.Repeat([]byte("é"), maxLogTail)); len(huge) > maxLogTail || !strings.HasSuffix(huge, "é") {
		t.Errorf("one huge line: %d bytes", len(huge))
	}
}

func TestReadTail(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100_000)
	got, err := readTail(bytes.NewReader(data), 1000)
	if err != nil || !bytes.Equal(got, data[len(data)-1000:]) {
		t.Errorf("readTail: %d bytes, %v", len(got), err)
	}
	short, _ := readTail(strings.NewReader("abc"), 1000)
	if string(short) != "abc" {
		t.Errorf("short: %q", short)
	}
}

func TestTriedNames(t *testing.T) {
	got := triedNames(strings.Repeat("<\"build\\\n>&", 100))
	if len(got) > 160 || strings.ContainsAny(got, "<>&\"\\\n") {
		t.Errorf("triedNames = %q", got)
	}
}
