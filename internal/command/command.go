package command

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tend-app/tend/internal/clip"
)

// Kind is what a /reconcile comment asks for.
type Kind int

const (
	// Reconcile: "/reconcile" — run now.
	Reconcile Kind = iota + 1
	// Instruct: "/reconcile <free text>" — run now with extra
	// instructions for the agent.
	Instruct
	// Recreate: "/reconcile recreate" — regenerate from the base
	// branch, discarding edits.
	Recreate
	// Skip: "/reconcile skip" — stop managing this PR.
	Skip
	// Help: anything else starting with /reconcile; answered with a
	// short help reply.
	Help
)

func (k Kind) String() string {
	switch k {
	case Reconcile:
		return "reconcile"
	case Instruct:
		return "instruct"
	case Recreate:
		return "recreate"
	case Skip:
		return "skip"
	case Help:
		return "help"
	}
	return "invalid"
}

// Command is a parsed comment command.
type Command struct {
	Kind Kind
	// Text holds the instructions of Instruct.
	Text string
}

const (
	Prefix = "/reconcile"
	// MaxInstructionLen bounds the instructions passed to the agent.
	MaxInstructionLen = 4000
)

// Parse reads a comment body. It reports false when the comment is
// not a command: only a body whose first non-blank text is /reconcile counts,
// so quoting a command ("> /reconcile") or mentioning it mid-sentence does
// not trigger anything.
func Parse(body string) (Command, bool) {
	body = strings.TrimLeftFunc(body, unicode.IsSpace)
	if !strings.HasPrefix(body, Prefix) {
		return Command{}, false
	}
	rest := body[len(Prefix):]
	if rest != "" {
		r, _ := utf8.DecodeRuneInString(rest)
		if !unicode.IsSpace(r) {
			// "/reconciles", "/reconcile-all": ours, but not a command we know.
			return Command{Kind: Help}, true
		}
	}
	text := strings.TrimSpace(sanitize(rest))
	if text == "" {
		return Command{Kind: Reconcile}, true
	}
	firstLine, _, multiline := strings.Cut(text, "\n")
	word := strings.ToLower(strings.TrimSpace(firstLine))
	switch word {
	case "recreate":
		if !multiline {
			return Command{Kind: Recreate}, true
		}
		return Command{Kind: Help}, true
	case "skip":
		if !multiline {
			return Command{Kind: Skip}, true
		}
		return Command{Kind: Help}, true
	case "help", "-h", "--help", "?":
		return Command{Kind: Help}, true
	}
	if fw := strings.Fields(word); len(fw) > 0 && (fw[0] == "recreate" || fw[0] == "skip") {
		// "/reconcile skip please": a keyword with trailing words is more
		// likely a mistyped keyword than instructions; ask rather than guess.
		return Command{Kind: Help}, true
	}
	text = clip.Text(text, MaxInstructionLen, "")
	return Command{Kind: Instruct, Text: text}, true
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

// HelpText is the reply to `/reconcile help` and to any /reconcile
// command tend does not understand.
const HelpText = "tend understands these commands, from people with write, maintain or admin access to the repository:\n\n" +
	"- `/reconcile` — reconcile now, and report in a fresh check run\n" +
	"- `/reconcile <instructions>` — reconcile now; the agent follows the instructions on this and every later run until the pull request closes\n" +
	"- `/reconcile recreate` — regenerate the pull request from the base branch, discarding commits people pushed to it\n" +
	"- `/reconcile skip` — stop touching this pull request (label `" + SkipLabel + "`); `/reconcile` or removing the label resumes\n" +
	"- `/reconcile help` — this list"

// SkipLabel marks a pull request (or request issue) tend keeps its hands off.
const SkipLabel = "tend/skip"

// DeniedText is the one reply a person without write access gets when
// they use a command.
func DeniedText(login string) string {
	return "@" + login + " only people with write, maintain or admin access to this repository can use tend's commands, so tend ignored yours. " +
		"Ask a maintainer to comment `/reconcile help` to see what tend understands."
}

// DeterministicText answers instructions given to a rule that has no agent.
const DeterministicText = "This rule is deterministic (its reconciler is not the agent), so tend cannot follow free-text instructions for it. " +
	"It reconciled the pull request again instead. Comment `/reconcile help` to see the commands."
