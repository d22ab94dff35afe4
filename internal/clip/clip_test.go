package clip

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	for _, c := range []struct {
		s    string
		max  int
		mark string
		want string
	}{
		{"short", 10, "…", "short"},
		{"exactly10!", 10, "…", "exactly10!"},
		{"abcdefghijk", 10, "…", "abcdefg…"},             // "…" is 3 bytes
		{"abcdefghijk", 5, "", "abcde"},                  // no mark
		{"aé", 2, "", "a"},                               // é is 2 bytes: never half of it
		{"日本語", 7, "", "日本"},                             // 3-byte characters
		{"日本語", 5, "", "日"},                              // cut inside the second character
		{"🙂🙂", 5, "", "🙂"},                               // 4-byte characters
		{"abcdef", 2, "…", "ab"},                         // no room for the mark
		{"abcdef", 0, "…", ""},                           // nothing fits
		{"abcdef", -1, "…", ""},                          // a negative limit is zero
		{"\x80\x80\x80\x80\x80x", 3, "", "\x80\x80\x80"}, // invalid bytes are cut where the limit falls
	} {
		if got := Text(c.s, c.max, c.mark); got != c.want {
			t.Errorf("Text(%q, %d, %q) = %q, want %q", c.s, c.max, c.mark, got, c.want)
		}
	}
}

// FuzzText checks Text's promises on any input: the result fits, it is a
// prefix of s plus the mark, it keeps valid UTF-8 valid, and it cuts no
// more than one character's worth more than it must.
func FuzzText(f *testing.F) {
	f.Add("hello, world", 5, "…")
	f.Add("é", 1, "")
	f.Add("日本語テキスト", 10, "\n\n… (truncated)")
	f.Add("🙂🙂🙂", 9, "…")
	f.Add("\xff\xfe\x80abc", 2, "")
	f.Fuzz(func(t *testing.T, s string, max int, mark string) {
		if max > 1<<20 || max < -1<<20 {
			max %= 1 << 20
		}
		got := Text(s, max, mark)
		if len(s) <= max {
			if got != s {
				t.Fatalf("Text(%q, %d) = %q; it fits and must be kept", s, max, got)
			}
			return
		}
		if len(got) > max && max >= 0 {
			t.Fatalf("Text(%q, %d, %q) = %q is %d bytes", s, max, mark, got, len(got))
		}
		prefix := got
		if len(mark) < max {
			var ok bool
			if prefix, ok = strings.CutSuffix(got, mark); !ok {
				t.Fatalf("Text(%q, %d, %q) = %q lacks the mark", s, max, mark, got)
			}
		}
		if !strings.HasPrefix(s, prefix) {
			t.Fatalf("Text(%q, %d, %q) = %q is not a prefix of s", s, max, mark, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(prefix) {
			t.Fatalf("Text(%q, %d, %q) = %q splits a character", s, max, mark, got)
		}
		room := max - len(mark)
		if len(mark) >= max {
			room = max
		}
		if room > 0 && len(prefix) < room-(utf8.UTFMax-1) {
			t.Fatalf("Text(%q, %d, %q) = %q cut more than one character too much", s, max, mark, got)
		}
	})
}
