package transform

import (
	"strings"
	"testing"
)

func TestArticleHTML(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain text becomes paragraphs", "Line one\nLine <two>", "<p>Line one<br>Line &lt;two&gt;</p>"},
		{"script and its content go", `<p>Hi</p><script>alert(1)</script>`, "<p>Hi</p>"},
		{"event handlers go", `<p onclick="steal()">Hi <img src="https://x.example/a.png" onerror="steal()"></p>`,
			`<p>Hi <img src="https://x.example/a.png"/></p>`},
		{"javascript: link loses its href", `<p><a href="javascript:alert(1)">click</a></p>`, "<p>click</p>"},
		{"JaVaScRiPt with entities too", `<p><a href="jav&#x09;ascript:alert(1)">x</a></p>`, "<p>x</p>"},
		{"data: image is dropped", `<p>See <img src="data:image/png;base64,AAAA" alt="s"></p>`, "<p>See </p>"},
		{"style element and attribute go", `<style>p{}</style><p style="color:red">x</p>`, "<p>x</p>"},
		{"h3-h6 become h2", `<h1>T</h1><h3>a</h3><h6>b</h6>`, "<h1>T</h1><h2>a</h2><h2>b</h2>"},
		{"div becomes p, span unwraps", `<div lang="en">Some <span>text</span></div>`, "<p>Some text</p>"},
		{"div holding blocks unwraps", `<div><h1>T</h1><p>x</p></div>`, "<h1>T</h1><p>x</p>"},
		{"loose text is wrapped", `Hello <b>bold</b><ul><li>a</li></ul>tail`,
			"<p>Hello <b>bold</b></p><ul><li>a</li></ul><p>tail</p>"},
		{"nested list becomes lines", `<ul><li>A<ul><li>a1</li><li>a2</li></ul></li><li>B</li></ul>`,
			"<ul><li>A- a1<br/>- a2</li><li>B</li></ul>"},
		{"empty list dropped", `<p>x</p><ul><li> </li></ul>`, "<p>x</p>"},
		{"nested table becomes lines", `<table><tr><td><table><tr><td>a</td><td>b</td></tr></table></td></tr></table>`,
			"<table><tr><td>a b</td></tr></table>"},
		{"table without cells dropped", `<p>x</p><table></table>`, "<p>x</p>"},
		{"youtube iframe kept, other dropped",
			`<iframe src="https://www.youtube.com/embed/x"></iframe><iframe src="https://evil.example/x"></iframe>`,
			`<iframe src="https://www.youtube.com/embed/x"></iframe>`},
		{"intercom classes only", `<p class="intercom-align-center">c</p><p class="evil">d</p>`,
			`<p class="intercom-align-center">c</p><p>d</p>`},
		{"mailto and https links kept", `<p><a href="mailto:a@example.com">m</a> <a href="https://x.example">w</a></p>`,
			`<p><a href="mailto:a@example.com">m</a> <a href="https://x.example">w</a></p>`},
		{"unknown elements unwrap into text", `<p><font color="red">red</font> <u>u</u></p>`, "<p>red u</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ArticleHTML(tt.in)
			if got != tt.want {
				t.Errorf("ArticleHTML(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			for _, bad := range []string{"<script", "onclick", "onerror", "javascript:", "data:", "style="} {
				if strings.Contains(strings.ToLower(got), bad) {
					t.Errorf("output %q still holds %q", got, bad)
				}
			}
		})
	}
}
