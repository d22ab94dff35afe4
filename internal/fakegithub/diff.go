package fakegithub

import (
	"bytes"
	"fmt"
	"strings"
)

// maxDiffLines bounds the quadratic line diff; bigger files get a whole-file
// hunk (GitHub omits patches for large diffs too).
const maxDiffLines = 3000

// diffFile counts added and deleted lines of a change and renders a unified
// diff hunk list like GitHub's "patch" field ("" for binary content).
func (s *Server) diffFile(rp *repo, ch fileChange) (add, del int, patch string) {
	content := func(l leaf) ([]byte, bool) {
		if l.sha == "" {
			return nil, true
		}
		o := rp.st.get(l.sha)
		if o == nil || o.kind != kindBlob {
			return nil, false
		}
		return o.blob, true
	}
	oldB, ok1 := content(ch.old)
	newB, ok2 := content(ch.new)
	if !ok1 || !ok2 || bytes.IndexByte(oldB, 0) >= 0 || bytes.IndexByte(newB, 0) >= 0 {
		return 0, 0, ""
	}
	a, b := splitLines(string(oldB)), splitLines(string(newB))
	ops := diffLines(a, b)
	for _, op := range ops {
		switch op.kind {
		case '+':
			add++
		case '-':
			del++
		}
	}
	return add, del, renderHunks(ops, 3)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

type diffOp struct {
	kind byte // ' ', '-', '+'
	line string
	a, b int // 1-based line numbers in old/new (for ' ' both)
}

// diffLines is a longest-common-subsequence line diff.
func diffLines(a, b []string) []diffOp {
	// Trim the common prefix and suffix first: most edits are small.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []diffOp
	for i := 0; i < pre; i++ {
		ops = append(ops, diffOp{kind: ' ', line: a[i], a: i + 1, b: i + 1})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(ma) > maxDiffLines || len(mb) > maxDiffLines || len(ma)*len(mb) > 4_000_000 {
		for i, l := range ma {
			ops = append(ops, diffOp{kind: '-', line: l, a: pre + i + 1})
		}
		for j, l := range mb {
			ops = append(ops, diffOp{kind: '+', line: l, b: pre + j + 1})
		}
	} else {
		n, m := len(ma), len(mb)
		lcs := make([][]int32, n+1)
		for i := range lcs {
			lcs[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else if lcs[i+1][j] >= lcs[i][j+1] {
					lcs[i][j] = lcs[i+1][j]
				} else {
					lcs[i][j] = lcs[i][j+1]
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && ma[i] == mb[j]:
				ops = append(ops, diffOp{kind: ' ', line: ma[i], a: pre + i + 1, b: pre + j + 1})
				i++
				j++
			case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
				ops = append(ops, diffOp{kind: '-', line: ma[i], a: pre + i + 1})
				i++
			default:
				ops = append(ops, diffOp{kind: '+', line: mb[j], b: pre + j + 1})
				j++
			}
		}
	}
	for k := 0; k < suf; k++ {
		ia, ib := len(a)-suf+k, len(b)-suf+k
		ops = append(ops, diffOp{kind: ' ', line: a[ia], a: ia + 1, b: ib + 1})
	}
	return ops
}

// renderHunks renders changed regions with `context` lines around them.
func renderHunks(ops []diffOp, context int) string {
	var sb strings.Builder
	i := 0
	for i < len(ops) {
		for i < len(ops) && ops[i].kind == ' ' {
			i++
		}
		if i >= len(ops) {
			break
		}
		start := i - context
		if start < 0 {
			start = 0
		}
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end += min(context, run-end)
				break
			}
			end = run
		}
		hunk := ops[start:end]
		aStart, bStart, aLen, bLen := 0, 0, 0, 0
		for _, op := range hunk {
			if op.kind != '+' {
				if aStart == 0 {
					aStart = op.a
				}
				aLen++
			}
			if op.kind != '-' {
				if bStart == 0 {
					bStart = op.b
				}
				bLen++
			}
		}
		if aStart == 0 {
			aStart = lastLine(ops[:start], true)
		}
		if bStart == 0 {
			bStart = lastLine(ops[:start], false)
		}
		fmt.Fprintf(&sb, "@@ -%d,%d +%d,%d @@\n", aStart, aLen, bStart, bLen)
		for _, op := range hunk {
			sb.WriteByte(op.kind)
			sb.WriteString(op.line)
			if !strings.HasSuffix(op.line, "\n") {
				sb.WriteString("\n\\ No newline at end of file\n")
			}
		}
		i = end
	}
	return strings.TrimSuffix(sb.String(), "\n")
}

// lastLine is the last old (or new) line number before a hunk with no lines
// on that side, as unified diffs number them.
func lastLine(ops []diffOp, old bool) int {
	for k := len(ops) - 1; k >= 0; k-- {
		if old && ops[k].kind != '+' {
			return ops[k].a
		}
		if !old && ops[k].kind != '-' {
			return ops[k].b
		}
	}
	return 0
}
