package handlers

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tend-app/tend/internal/clip"
)

// CommandKind is what a /reconcile comment asks for.
type CommandKind int

const (
	// CommandReconcile: "/reconcile" — run now.
	CommandReconcile CommandKind = iota + 1
	// CommandInstruct: "/reconcile <free text>" — run now with extra
	// instructions for the agent.
	CommandInstruct
	// CommandRecreate: "/reconcile recreate" — regenerate from the base
	// branch, discarding edits.
	CommandRecreate
	// CommandSkip: "/reconcile skip" — stop managing this PR.
	CommandSkip
	// CommandHelp: anything else starting with /reconcile; answered with a
	// short help reply.
	CommandHelp
)

func (k CommandKind) String() string {
	switch k {
	case CommandReconcile:
		return "reconcile"
	case CommandInstruct:
		return "instruct"
	case CommandRecreate:
		return "recreate"
	case CommandSkip:
		return "skip"
	case CommandHelp:
		return "help"
	}
	return "invalid"
}

// Command is a parsed comment command.
type Command struct {
	Kind CommandKind
	// Text holds the instructions of CommandInstruct.
	Text string
}

const (
	commandPrefix = "/reconcile"
	// MaxInstructionLen bounds the instructions passed to the agent.
	MaxInstructionLen = 4000
)

// ParseCommand reads a comment body. It reports false when the comment is
// not a command: only a body whose first non-blank text is /reconcile counts,
// so quoting a command ("> /reconcile") or mentioning it mid-sentence does
// not trigger anything.
func ParseCommand(body string) (Command, bool) {
	body = strings.TrimLeftFunc(body, unicode.IsSpace)
	if !strings.HasPrefix(body, commandPrefix) {
		return Command{}, false
	}
	rest := body[len(commandPrefix):]
	if rest != "" {
		r, _ := utf8.DecodeRuneInString(rest)
		if !unicode.IsSpace(r) {
			// "/reconciles", "/reconcile-all": ours, but not a command we know.
			return Command{Kind: CommandHelp}, true
		}
	}
	text := strings.TrimSpace(sanitize(rest))
	if text == "" {
		return Command{Kind: CommandReconcile}, true
	}
	firstLine, _, multiline := strings.Cut(text, "\n")
	word := strings.ToLower(strings.TrimSpace(firstLine))
	switch word {
	case "recreate":
		if !multiline {
			return Command{Kind: CommandRecreate}, true
		}
		return Command{Kind: CommandHelp}, true
	case "skip":
		if !multiline {
			return Command{Kind: CommandSkip}, true
		}
		return Command{Kind: CommandHelp}, true
	case "help", "-h", "--help", "?":
		return Command{Kind: CommandHelp}, true
	}
	if fw := strings.Fields(word); len(fw) > 0 && (fw[0] == "recreate" || fw[0] == "skip") {
		// "/reconcile skip please": a keyword with trailing words is more
		// likely a mistyped keyword than instructions; ask rather than guess.
		return Command{Kind: CommandHelp}, true
	}
	text = clip.Text(text, MaxInstructionLen, "")
	return Command{Kind: CommandInstruct, Text: text}, true
}

// sanitize drops control characters (keeping newlines and tabs) and
// invalid UTF-8 from text that will reach the model and PR bodies.
func sanitize(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}

// CommandHelpText is the reply to a command tend does not understand.
const CommandHelpText = "tend understands:\n\n" +
	"- `/reconcile` — reconcile now\n" +
	"- `/reconcile <instructions>` — reconcile now, with extra instructions for the agent\n" +
	"- `/reconcile recreate` — regenerate this pull request from the base branch, discarding edits\n" +
	"- `/reconcile skip` — stop managing this pull request\n\n" +
	"Commands are accepted from people with write access to the repository."
