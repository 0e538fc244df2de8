package sampleorg

import (
	"fmt"
	"strings"
	"time"
)

// The knowledge base: languages, a category tree four levels deep, and
// articles grouped by topic. A topic has one root record, one or more
// versions in its primary language (only the last flagged latest, older
// ones archived) and a translation per extra language.

var locales = []struct {
	lcid                 int
	code, language, name string
}{{1033, "en-US", "English", "English (United States)"}, {1031, "de-DE", "German", "German (Germany)"},
	{1036, "fr-FR", "French", "French (France)"}, {1041, "ja-JP", "Japanese", "Japanese (Japan)"},
	{3082, "es-ES", "Spanish", "Spanish (Spain)"}, {1046, "pt-BR", "Portuguese", "Portuguese (Brazil)"}}

func (o *Org) languagelocaleRow(i int) Row {
	l := locales[i]
	lang, region, _ := strings.Cut(l.name, " (")
	row := o.configRow(i, anchor.AddDate(-6, 0, 0), false)
	row["name"], row["localeid"], row["code"], row["language"] = l.name, l.lcid, l.code, lang
	row["region"], row["statecode"], row["statuscode"] = strings.TrimSuffix(region, ")"), 0, 1
	if i == len(locales)-1 {
		row["statecode"], row["statuscode"] = 1, 2 // an inactive language
	}
	return row
}

// Category tree: 3 roots, 9 children, 18 grandchildren, 6 great-grandchildren.
const categoryCount = 36

var (
	categoryRoots = []string{"Billing", "Hardware", "Software"}
	categoryMid   = []string{"Invoices", "Payments", "Refunds", "Printers", "Laptops", "Accessories", "Portal",
		"Mobile app", "Integrations"}
)

func categoryParent(i int) int {
	switch {
	case i < 3:
		return -1
	case i < 12:
		return (i - 3) / 3
	case i < 30:
		return 3 + (i-12)/2
	}
	return 12 + (i-30)*3
}

func categoryTitle(i int) string {
	switch {
	case i < 3:
		return categoryRoots[i]
	case i < 12:
		return categoryMid[i-3]
	case i < 30:
		return categoryMid[(i-12)/2] + []string{" — How-to", " — Known issues"}[(i-12)%2]
	}
	return categoryTitle(categoryParent(i)) + " — Advanced"
}

func (o *Org) categoryRow(i int) Row {
	row := o.configRow(i, anchor.AddDate(-3, 0, i), true)
	row["title"], row["categorynumber"] = categoryTitle(i), fmt.Sprintf("CAT-%04d", 1000+i)
	row["description"], row["sequencenumber"] = "Articles about "+categoryTitle(i)+".", 1+i%3
	if p := categoryParent(i); p >= 0 {
		row["parentcategoryid"] = o.ref("category", p)
	}
	return row
}

var articleTopics = []string{"How to reset your password", "Printer shows error %d", "Understanding your invoice",
	"Requesting a refund", "Connecting the mobile app", "Exporting data to CSV", "Two-factor sign-in",
	"Replacing the toner cartridge", "Updating billing details", "API rate limits explained"}

type articleSlot struct {
	topic, root, versions, langs int
	version                      int // 1..versions for primary-language versions, 0 otherwise
	lang                         int // index into the topic's languages; -1 for the root
}

func (o *Org) articleSlot(i int) articleSlot {
	t, k := o.lay["knowledgearticle"].locate(i)
	s := articleSlot{topic: t, root: i - k, versions: o.topicVersions(t), langs: o.topicLangs(t), lang: -1}
	switch {
	case k == 0:
	case k <= s.versions:
		s.version, s.lang = k, 0
	default:
		s.lang = k - s.versions
	}
	return s
}

// topicLocale returns the locale index of the topic's l-th language; the
// primary is English for most topics and German for every fifth.
func (o *Org) topicLocale(t, l int) int {
	primary := 0
	if t%5 == 4 {
		primary = 1
	}
	if l == 0 {
		return primary
	}
	others := []int{}
	for x := 0; x < len(locales)-1; x++ { // the inactive language gets no articles
		if x != primary {
			others = append(others, x)
		}
	}
	return others[(int(o.h("kaloc", t)%8)+l-1)%len(others)]
}

// latestArticle is the index of the topic's latest article in language l.
func (o *Org) latestArticle(root, versions, l int) int {
	if l == 0 {
		return root + versions
	}
	return root + versions + l
}

func (o *Org) knowledgearticleRow(i int) Row {
	s := o.articleSlot(i)
	r := newRnd(o.seed, "knowledgearticle", i)
	topic := articleTopics[s.topic%len(articleTopics)]
	if strings.Contains(topic, "%d") {
		topic = fmt.Sprintf(topic, 100+s.topic)
	}
	loc := locales[o.topicLocale(s.topic, max(s.lang, 0))]
	title := topic
	if s.lang > 0 {
		title = "[" + loc.code + "] " + topic
	}
	created := anchor.AddDate(-3, 0, 0).Add(time.Duration(o.h("katime", s.topic)%(700*24)) * time.Hour)
	created = created.Add(time.Duration(max(s.version-1, 0)*30+max(s.lang, 0)*7) * 24 * time.Hour)
	row := o.configRow(i, created, true)
	row["title"], row["articlepublicnumber"] = title, fmt.Sprintf("KA-%05d", 1000+s.topic)
	row["description"] = clip("Step-by-step help: "+topic, 155)
	row["keywords"] = strings.ToLower(strings.ReplaceAll(topic, " ", ","))
	row["languagelocaleid"], row["primaryauthorid"] = o.ref("languagelocale", o.topicLocale(s.topic, max(s.lang, 0))), o.adminRef()
	row["isinternal"], row["knowledgearticleviews"] = s.topic%7 == 3, r.intn(5000)
	row["content"] = articleHTML(topic, loc.code, s.version, r)
	row["isrootarticle"], row["islatestversion"], row["isprimary"] = s.lang < 0, false, s.lang == 0
	row["majorversionnumber"], row["minorversionnumber"] = max(s.version, 1), 0
	if s.lang < 0 { // the root groups versions and translations; never published itself
		row["statecode"], row["statuscode"] = 0, 2
		return row
	}
	row["rootarticleid"] = o.ref("knowledgearticle", s.root)
	latest := s.version == s.versions || s.lang > 0
	row["islatestversion"] = latest
	if s.lang > 0 {
		row["majorversionnumber"] = s.versions
		row["parentarticlecontentid"] = o.ref("knowledgearticle", o.latestArticle(s.root, s.versions, 0))
	}
	if s.version > 1 {
		row["previousarticlecontentid"] = o.ref("knowledgearticle", s.root+s.version-1)
	}
	switch {
	case !latest:
		row["statecode"], row["statuscode"] = 5, 12
	case s.topic%6 == 5:
		row["statecode"], row["statuscode"] = 0, 2
	case s.topic%11 == 10:
		row["statecode"], row["statuscode"], row["expirationdate"] = 4, 10, created.AddDate(1, 0, 0)
		row["expiredreviewoptions"] = 0
	default:
		row["statecode"], row["statuscode"], row["publishon"] = 3, 7, created.Add(2*time.Hour)
	}
	return row
}

func articleHTML(topic, lang string, version int, r *rnd) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<div lang="%s"><h1>%s</h1><p>Applies to version %d. `, lang, htmlEscape(topic), max(version, 1))
	b.WriteString(`Follow these steps:</p><ol>`)
	for k := 0; k < 3+r.intn(5); k++ {
		fmt.Fprintf(&b, `<li>Step %d: open <b>Settings</b> &gt; <i>Account</i> and check the value.</li>`, k+1)
	}
	b.WriteString(`</ol>`)
	if r.chance(30) {
		b.WriteString(`<p><img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==" alt="screenshot"></p>`)
	}
	if r.chance(30) {
		b.WriteString(`<table border="1"><tr><th>Error</th><th>Meaning</th></tr><tr><td>E42</td><td>Paper jam</td></tr></table>`)
	}
	b.WriteString(`<p>Still stuck? <a href="https://support.example.com/contact">Contact support</a>.</p></div>`)
	return b.String()
}

func (o *Org) articleCategoryRow(i int) Row {
	t, k := o.lay["knowledgearticlescategories"].locate(i)
	cats := o.topicCats(t)
	l, ci := k/cats, k%cats
	root := o.lay["knowledgearticle"].first(t)
	cat := (int(o.h("topiccat", t)%categoryCount) + ci*7) % categoryCount
	return Row{"knowledgearticleid": o.ID("knowledgearticle", o.latestArticle(root, o.topicVersions(t), l)),
		"categoryid": o.ID("category", cat)}
}
