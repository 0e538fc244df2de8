package transform

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestBodyHTML(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"script dropped with content", `<p>Hi</p><script>alert("x")</script>`, `<p>Hi</p>`},
		{"style dropped with content", `<style>p{color:red}</style><b>bold</b>`, `<b>bold</b>`},
		{"font unwrapped to text", `<font face="Arial" size="2">old</font> mail`, `old mail`},
		{"links kept, made nofollow", `<a href="https://a.example/x">x</a>`, `<a href="https://a.example/x" rel="nofollow">x</a>`},
		{"javascript link dropped", `<a href="javascript:alert(1)">x</a>`, `x`},
		{"inline image without usable src dropped", `<p>a<img alt="logo" src="cid:img1@x"></p>`, `<p>a</p>`},
		{"linked image kept", `<img src="https://a.example/i.png" alt="i">`, `<img src="https://a.example/i.png" alt="i">`},
		{"tables kept", `<table><tr><td>1</td></tr></table>`, `<table><tr><td>1</td></tr></table>`},
		{"plain text escaped, lines kept", "a < b\nc & d\n\nnext", `<p>a &lt; b<br>c &amp; d</p><p>next</p>`},
		{"bare angle words stay text", "use <two> words", `<p>use &lt;two&gt; words</p>`},
		{"emoji and CJK untouched", "<p>火事 🔥</p>", "<p>火事 🔥</p>"},
		{"blank", "  ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BodyHTML(tt.in); got != tt.want {
				t.Errorf("BodyHTML(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// dropEmptyImages must do exactly what the regexp it replaced did, on
// random mixes of the pieces that matter to it.
func TestDropEmptyImagesMatchesRegexp(t *testing.T) {
	imgTag := regexp.MustCompile(`<img\b[^>]*>`)
	want := func(s string) string {
		return imgTag.ReplaceAllStringFunc(s, func(tag string) string {
			if strings.Contains(tag, " src=") {
				return tag
			}
			return ""
		})
	}
	pieces := []string{"<img", "<IMG", "<imgx", "<img_", "<img9", "<img-", " src=", "src=", ">", "<", "a", " ",
		"\n", "é", "\xff", `alt="x"`, `"`}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		if got := dropEmptyImages(s); got != want(s) {
			t.Fatalf("case %d: dropEmptyImages(%q) = %q, regexp gives %q", n, s, got, want(s))
		}
	}
}
