package clip

import "unicode/utf8"

// Text returns s when it is at most max bytes long. Otherwise it returns
// the longest prefix of s that ends on a character boundary and, followed
// by mark, fits in max bytes, followed by mark (mark says that something
// was cut: "…", "\n\n… (truncated)", or "" for none). When max is too
// small to hold mark, the prefix alone is returned, cut to max.
//
// Limits are in bytes. A limit that GitHub counts in characters is met
// too, since a character is at least one byte. When s is valid UTF-8 (and
// mark is), so is the result; bytes of s that are not valid UTF-8 are cut
// where the limit falls.
func Text(s string, max int, mark string) string {
	if max < 0 {
		max = 0
	}
	if len(s) <= max {
		return s
	}
	if len(mark) >= max {
		return s[:boundary(s, max)]
	}
	return s[:boundary(s, max-len(mark))] + mark
}

// boundary returns the largest cut point at or below n (n < len(s)) that
// does not fall inside a character: when s[n] continues a character that
// starts at most utf8.UTFMax-1 bytes earlier, the cut moves to its start.
func boundary(s string, n int) int {
	for i := n; i > n-utf8.UTFMax && i >= 0; i-- {
		if utf8.RuneStart(s[i]) {
			if i == n {
				return n
			}
			// s[i] starts a character that s[n] continues only if that
			// character is long enough to reach n.
			if _, size := utf8.DecodeRuneInString(s[i:]); size > n-i {
				return i
			}
			return n
		}
	}
	return n
}
