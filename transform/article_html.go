package transform

import (
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// articlePolicy keeps what an Intercom article body accepts (spec §13):
// paragraphs, line breaks, rules, h1-h6 (h3-h6 become h2 afterwards), links,
// images, lists, tables, iframes of the supported video hosts, pre, code and
// the inline emphasis tags. Every attribute not named here goes, so no event
// handler survives; URLs must be http(s) (mailto for links), so no
// javascript: or data: URL survives. script and style go with their content.
// div and span are allowed through the sanitiser only so that the tree pass
// can turn them into paragraphs; they never reach the output.
var articlePolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table", "thead",
		"tbody", "tfoot", "tr", "th", "td", "pre", "code", "b", "strong", "i", "em", "div", "span")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowAttrs("href").Matching(regexp.MustCompile(`(?i)^(https?:|mailto:)`)).OnElements("a")
	p.AllowAttrs("src").Matching(regexp.MustCompile(`(?i)^https?://`)).OnElements("img")
	p.AllowAttrs("alt").OnElements("img")
	p.AllowAttrs("src").Matching(articleVideoHosts).OnElements("iframe")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^intercom-h2b-button$`)).OnElements("a")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^intercom-align-center$`)).OnElements("p", "h1", "h2", "img")
	return p
}()

// articleVideoHosts are the iframe sources Intercom embeds; any other iframe
// is a hard 400 on create, so it is dropped here.
var articleVideoHosts = regexp.MustCompile(`(?i)^https://(?:www\.)?(?:youtube\.com|youtube-nocookie\.com|` +
	`player\.vimeo\.com|fast\.wistia\.(?:net|com)|(?:www\.)?loom\.com|play\.vidyard\.com|` +
	`embed\.streamio\.com)/`)

// ArticleHTML turns a knowledge article's content into a body Intercom
// accepts: sanitised by articlePolicy, then reshaped where Intercom would
// refuse the markup (a nested list or table, an empty list or table, an image
// or iframe whose source was dropped) or rewrites it anyway (h3-h6 to h2,
// text outside paragraphs). Plain text becomes paragraphs.
func ArticleHTML(s string) string {
	if !looksLikeHTML.MatchString(s) && !iframeTag.MatchString(s) {
		return TextToHTML(s)
	}
	clean := articlePolicy.Sanitize(s)
	body := &html.Node{Type: html.ElementNode, DataAtom: atom.Body, Data: "body"}
	nodes, err := html.ParseFragment(strings.NewReader(clean), body)
	if err != nil {
		return TextToHTML(html.UnescapeString(stripTags(clean)))
	}
	for _, n := range nodes {
		body.AppendChild(n)
	}
	reshape(body)
	wrapLooseText(body)
	var b strings.Builder
	for c := body.FirstChild; c != nil; c = c.NextSibling {
		if err := html.Render(&b, c); err != nil {
			return TextToHTML(html.UnescapeString(stripTags(clean)))
		}
	}
	return strings.TrimSpace(b.String())
}

// iframeTag adds embedded videos to what marks content as HTML: an article
// may hold nothing else.
var iframeTag = regexp.MustCompile(`(?i)<iframe\b`)

var anyTag = regexp.MustCompile(`<[^>]*>`)

func stripTags(s string) string { return anyTag.ReplaceAllString(s, " ") }

// reshape rewrites n's subtree, children first, so that a parent sees its
// children in their final form.
func reshape(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		reshape(c)
		c = next
	}
	if n.Type != html.ElementNode || n.DataAtom == atom.Body {
		return
	}
	switch n.DataAtom {
	case atom.H3, atom.H4, atom.H5, atom.H6:
		rename(n, atom.H2)
	case atom.Div:
		if hasBlockChild(n) {
			unwrap(n)
		} else {
			rename(n, atom.P)
		}
	case atom.Span, atom.Thead, atom.Tbody, atom.Tfoot:
		if n.DataAtom == atom.Span || insideTable(n) {
			unwrap(n)
		}
	case atom.Img, atom.Iframe:
		if attr(n, "src") == "" {
			remove(n)
		}
	case atom.Ul, atom.Ol:
		reshapeList(n)
	case atom.Table:
		reshapeTable(n)
	case atom.P:
		if hasBlockChild(n) {
			unwrap(n) // a paragraph cannot hold blocks; its blocks stand on their own
		}
	}
}

// reshapeList drops a list without a non-empty item (a 400 in Intercom) and
// turns a list nested in an item into lines of that item, since Intercom
// refuses nested lists.
func reshapeList(n *html.Node) {
	if inside(n, atom.Li) {
		flattenToLines(n, "- ")
		return
	}
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type != html.ElementNode || c.DataAtom != atom.Li {
			if c.Type == html.TextNode && strings.TrimSpace(c.Data) == "" {
				n.RemoveChild(c)
			} else {
				wrapIn(c, atom.Li)
			}
		} else if strings.TrimSpace(textOf(c)) == "" && !hasElement(c, atom.Img) {
			n.RemoveChild(c)
		}
		c = next
	}
	if n.FirstChild == nil {
		remove(n)
	}
}

// reshapeTable drops a table without a cell and turns a table nested in a
// cell into lines of that cell (Intercom refuses nested tables).
func reshapeTable(n *html.Node) {
	if inside(n, atom.Td) || inside(n, atom.Th) {
		flattenToLines(n, "")
		return
	}
	if !hasElement(n, atom.Td) && !hasElement(n, atom.Th) {
		remove(n)
	}
}

// flattenToLines replaces a list or table by its rows as text lines joined
// with <br>, each prefixed.
func flattenToLines(n *html.Node, prefix string) {
	var lines []string
	row := atom.Li
	if n.DataAtom == atom.Table {
		row = atom.Tr
	}
	for _, r := range elements(n, row) {
		if t := strings.Join(strings.Fields(textOf(r)), " "); t != "" {
			lines = append(lines, prefix+t)
		}
	}
	parent := n.Parent
	for i, l := range lines {
		if i > 0 {
			parent.InsertBefore(&html.Node{Type: html.ElementNode, DataAtom: atom.Br, Data: "br"}, n)
		}
		parent.InsertBefore(&html.Node{Type: html.TextNode, Data: l}, n)
	}
	parent.RemoveChild(n)
}

// wrapLooseText puts runs of text and inline elements at the top level into
// paragraphs: Intercom wants all text in paragraphs.
func wrapLooseText(body *html.Node) {
	var run []*html.Node
	flush := func(before *html.Node) {
		if len(run) == 0 {
			return
		}
		blank := true
		for _, r := range run {
			if r.Type != html.TextNode || strings.TrimSpace(r.Data) != "" {
				blank = false
			}
		}
		if blank {
			for _, r := range run {
				body.RemoveChild(r)
			}
			run = nil
			return
		}
		p := &html.Node{Type: html.ElementNode, DataAtom: atom.P, Data: "p"}
		body.InsertBefore(p, before)
		for _, r := range run {
			body.RemoveChild(r)
			p.AppendChild(r)
		}
		run = nil
	}
	for c := body.FirstChild; c != nil; {
		next := c.NextSibling
		if isBlock(c) {
			flush(c)
		} else {
			run = append(run, c)
		}
		c = next
	}
	flush(nil)
}

var blockAtoms = map[atom.Atom]bool{atom.P: true, atom.H1: true, atom.H2: true, atom.Ul: true, atom.Ol: true,
	atom.Table: true, atom.Pre: true, atom.Hr: true, atom.Iframe: true, atom.Div: true, atom.Li: true,
	atom.Tr: true, atom.Td: true, atom.Th: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true}

func isBlock(n *html.Node) bool { return n.Type == html.ElementNode && blockAtoms[n.DataAtom] }

func hasBlockChild(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if isBlock(c) {
			return true
		}
	}
	return false
}

func rename(n *html.Node, a atom.Atom) { n.DataAtom, n.Data = a, a.String() }

// unwrap replaces n by its children.
func unwrap(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		n.RemoveChild(c)
		n.Parent.InsertBefore(c, n)
		c = next
	}
	n.Parent.RemoveChild(n)
}

func remove(n *html.Node) { n.Parent.RemoveChild(n) }

func wrapIn(n *html.Node, a atom.Atom) {
	w := &html.Node{Type: html.ElementNode, DataAtom: a, Data: a.String()}
	n.Parent.InsertBefore(w, n)
	n.Parent.RemoveChild(n)
	w.AppendChild(n)
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func inside(n *html.Node, a atom.Atom) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.DataAtom == a {
			return true
		}
	}
	return false
}

func insideTable(n *html.Node) bool { return inside(n, atom.Table) }

func hasElement(n *html.Node, a atom.Atom) bool { return len(elements(n, a)) > 0 }

// elements lists n's descendants of type a, outermost first, not looking
// inside a match.
func elements(n *html.Node, a atom.Atom) []*html.Node {
	var out []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == a {
			out = append(out, c)
			continue
		}
		out = append(out, elements(c, a)...)
	}
	return out
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
		if c.Type == html.ElementNode && (c.DataAtom == atom.Br || isBlock(c)) {
			b.WriteString(" ")
		}
	}
	return b.String()
}
