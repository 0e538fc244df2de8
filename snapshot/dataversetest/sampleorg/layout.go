package sampleorg

// layout places a child table's rows after their parents: parent p owns
// per(p) consecutive rows. Only block prefix sums are stored, so locating a
// row costs at most blockSize calls of per, which must therefore be cheap
// (a hash, never a full story).
type layout struct {
	starts  []int
	parents int
	per     func(int) int
}

func newLayout(parents int, per func(int) int) *layout {
	return &layout{starts: prefixBlocks(parents, per), parents: parents, per: per}
}

func (l *layout) total() int { return l.starts[len(l.starts)-1] }

// locate returns the parent of child j and the child's rank under it.
func (l *layout) locate(j int) (parent, rank int) { return locate(j, l.starts, l.parents, l.per) }

// first returns the index of parent p's first child (p's children are
// first..first+per(p)-1).
func (l *layout) first(p int) int {
	b := p / blockSize
	j := l.starts[b]
	for q := b * blockSize; q < p; q++ {
		j += l.per(q)
	}
	return j
}

func (o *Org) h(label string, i int) uint64 { return hash64(o.seed, label, int64(i)) }

// caseCore replays the first draws of caseFacts to get a case's queue and
// state cheaply (no strings), for layouts keyed on them. A test keeps the
// two in step.
func (o *Org) caseCore(c int) (queue, state int) {
	r := newRnd(o.seed, "case", c)
	if r.chance(30) {
		r.intn(o.Count("account"))
	} else {
		r.intn(o.Count("contact"))
	}
	o.agent(r)
	queue = -1
	if r.chance(8) {
		queue = r.intn(o.Count("queue"))
	}
	switch roll := r.intn(100); {
	case roll < 25:
		return queue, 0
	case roll < 90:
		return queue, 1
	}
	return queue, 2
}

// Per-parent child counts. Each is a pure hash of the parent index (plus
// caseCore), so layouts stay cheap to locate in.

func (o *Org) resolutionsOfCase(c int) int {
	if _, st := o.caseCore(c); st == 1 {
		return 1
	}
	return 0
}

func (o *Org) callsOfCase(c int) int {
	switch v := o.h("nphone", c) % 10; {
	case v < 5:
		return 0
	case v < 8:
		return 1
	}
	return 2
}

func (o *Org) tasksOfCase(c int) int { return int(o.h("ntask", c)%100) / 65 } // 35% one task

func (o *Org) appointmentsOfCase(c int) int {
	if o.h("nappt", c)%10 == 0 {
		return 1
	}
	return 0
}

func (o *Org) kpisOfCase(c int) int {
	if o.h("nkpi", c)%100 < 40 {
		return 2 // first response by, resolve by
	}
	return 0
}

func (o *Org) claimsOfCase(c int) int {
	if o.h("nclaim", c)%100 < 6 {
		return 1
	}
	return 0
}

// queueItemsOfCase: routed cases have one item in their queue; a quarter of
// them were transferred and also have an older, inactive item elsewhere.
func (o *Org) queueItemsOfCase(c int) int {
	q, _ := o.caseCore(c)
	switch {
	case q < 0:
		return 0
	case o.Count("queue") > 1 && o.h("qtransfer", c)%4 == 0:
		return 2
	}
	return 1
}

// attachmentsOfEmail: most e-mails have none, some one to three, about one
// in a hundred twelve photos (bug report br06); e-mail 2 always has twelve
// and e-mail 3 one, which is the large file of orgs with 2000+ cases.
func (o *Org) attachmentsOfEmail(j int) int {
	switch j {
	case 2:
		return 12
	case 3:
		return 1
	}
	switch v := o.h("natt", j) % 100; {
	case v < 86:
		return 0
	case v < 99:
		return 1 + int(v%3)
	}
	return 12
}

func (o *Org) membersOfTeam(t int) int         { return 2 + int(o.h("nteam", t)%3) }
func (o *Org) membersOfQueue(q int) int        { return 2 + int(o.h("nqueue", q)%3) }
func (o *Org) channelsOfEntitlement(e int) int { return 1 + int(o.h("nchan", e)%3) }

// Knowledge topics: a root record, V versions in the primary language and
// one translation per extra language (L languages in all).
func (o *Org) topicLangs(t int) int    { return 1 + int(o.h("kalang", t)%3) }
func (o *Org) topicVersions(t int) int { return 1 + int(o.h("kaver", t)%3) }
func (o *Org) topicCats(t int) int     { return 1 + int(o.h("kacat", t)%2) }

func (o *Org) articlesOfTopic(t int) int { return 1 + o.topicVersions(t) + o.topicLangs(t) - 1 }

// Category links go to each language's latest article of the topic.
func (o *Org) catLinksOfTopic(t int) int { return o.topicCats(t) * o.topicLangs(t) }
