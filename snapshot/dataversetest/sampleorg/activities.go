package sampleorg

import (
	"fmt"
	"strings"
	"time"
)

// ---- incidents ----

type caseFacts struct {
	title, ticket    string
	created          time.Time
	state            int
	accountCustomer  bool
	customer         int // account or contact index, per accountCustomer
	requester        int // the contact who writes in
	owner            int // systemuser index
	queue            int // -1 when not routed to a queue
	origin, priority int
	nEmails          int
}

func (o *Org) caseFacts(c int) caseFacts {
	r := newRnd(o.seed, "case", c)
	f := caseFacts{queue: -1, nEmails: o.emailsOfCase(c)}
	if r.chance(30) {
		f.accountCustomer, f.customer = true, r.intn(o.Count("account"))
		f.requester = f.customer // account a's primary contact is contact a
	} else {
		f.customer = r.intn(o.Count("contact"))
		f.requester = f.customer
	}
	f.owner = o.agent(r)
	if r.chance(8) {
		f.queue = r.intn(o.Count("queue"))
	}
	switch roll := r.intn(100); {
	case roll < 25:
		f.state = 0
	case roll < 90:
		f.state = 1
	default:
		f.state = 2
	}
	span := 3*365*24*time.Hour - 30*24*time.Hour
	f.created = anchor.AddDate(-3, 0, 0).Add(time.Duration(r.u64() % uint64(span)))
	f.created = f.created.Truncate(time.Second)
	topic := pick(r, caseTopics)
	if strings.Contains(topic, "%d") {
		topic = fmt.Sprintf(topic, 1+r.intn(99999))
	}
	f.title = topic
	const alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	var sb strings.Builder
	for k := 0; k < 6; k++ {
		sb.WriteByte(alnum[r.intn(len(alnum))])
	}
	f.ticket = fmt.Sprintf("CAS-%05d-%s", c%100000, sb.String())
	f.origin = pick(r, []int{2, 2, 2, 1, 3})
	f.priority = pick(r, []int{1, 2, 2, 2, 3})
	return f
}

func (o *Org) emailsOfCase(c int) int { return 1 + int(hash64(o.seed, "ncase", int64(c))%5) }

func (o *Org) looseEmails() int { return 3 + o.cases/500 }

// emailTimes returns when each of case c's emails was created, in order.
func (o *Org) emailTime(c int, k int, created time.Time) time.Time {
	r := newRnd(o.seed, "sched", c)
	t := created
	for x := 0; x <= k; x++ {
		t = t.Add(5*time.Minute + time.Duration(r.intn(3*24*3600))*time.Second)
	}
	return t
}

func (o *Org) incidentRow(c int) Row {
	f := o.caseFacts(c)
	r := newRnd(o.seed, "incident", c)
	e := o.schemas["incident"]
	last := o.emailTime(c, f.nEmails-1, f.created)
	req := o.person(f.requester)
	row := Row{
		"incidentid": o.ID("incident", c), "title": f.title, "ticketnumber": f.ticket,
		"description":  clip(caseDescription(f, r), e.Attribute("description").MaxLength),
		"casetypecode": optionValue(e, "casetypecode", r), "prioritycode": f.priority,
		"caseorigincode": f.origin, "statecode": f.state, "statuscode": statusFor(e, f.state, r),
		"primarycontactid": o.ref("contact", f.requester), "emailaddress": nilIfEmpty(strings.TrimSpace(req.email)),
		"ownerid": o.ref("systemuser", f.owner), "owninguser": o.ref("systemuser", f.owner),
		"createdby": o.ref("systemuser", f.owner), "modifiedby": o.ref("systemuser", f.owner),
		"createdon": f.created, "modifiedon": last.Add(time.Hour),
		"isescalated": r.chance(7), "firstresponsesent": f.nEmails > 1,
		"versionnumber": o.version("incident", c), "deactivatedon": nil,
		"accountid": nil, "contactid": nil,
	}
	if f.accountCustomer {
		row["customerid"] = o.ref("account", f.customer)
		row["accountid"] = row["customerid"]
	} else {
		row["customerid"] = o.ref("contact", f.customer)
		row["contactid"] = row["customerid"]
	}
	o.caseLinks(c, f, row)
	if f.state != 0 {
		row["deactivatedon"] = last.Add(time.Hour)
		if f.state == 1 && r.chance(40) {
			row["customersatisfactioncode"] = 1 + r.intn(5)
		}
	}
	return row
}

// caseLinks sets entitlementid and parentcaseid on some cases, so that the
// transform's entitlement attributes and parent-case reference are exercised.
// The draws are hashes, not r, so every other column keeps its value.
func (o *Org) caseLinks(c int, f caseFacts, row Row) {
	if e, ok := o.entitlementOf(f); ok && o.h("case/entitlement", c)%5 != 0 {
		row["entitlementid"] = o.ref("entitlement", e)
	}
	if c > 0 && o.h("case/parent", c)%12 == 0 { // a follow-up of an earlier case
		row["parentcaseid"] = o.ref("incident", int(o.h("case/parentidx", c)%uint64(c)))
	}
}

// entitlementOf finds the entitlement of the case's customer: Dataverse only
// accepts an entitlement whose customer is the case's. entitlementRow gives
// entitlement i to account i, or to contact i when i%7 == 6.
func (o *Org) entitlementOf(f caseFacts) (int, bool) {
	for i := 0; i < o.Count("entitlement"); i++ {
		toContact := i%7 == 6
		if toContact == f.accountCustomer { // customers of different tables
			continue
		}
		n := o.Count("account")
		if toContact {
			n = o.Count("contact")
		}
		if i%n == f.customer {
			return i, true
		}
	}
	return 0, false
}

func caseDescription(f caseFacts, r *rnd) string {
	lines := []string{
		"Customer reports: " + f.title + ".",
		"Steps tried: restarted, cleared cache, still failing.",
		"Contact prefers e-mail. Ref " + f.ticket + ".",
		"Kunde meldet wiederholt Fehler — bitte prüfen. Ünïcödé ok?",
		"客户说问题仍然存在。",
	}
	n := 1 + r.intn(len(lines))
	return strings.Join(lines[:n], "\n")
}

func clip(s string, max int) string {
	if max <= 0 {
		return s
	}
	rs := []rune(s)
	if len(rs) > max {
		return string(rs[:max])
	}
	return s
}

// ---- emails ----

type emailFacts struct {
	c, k       int // case and rank within it; c = -1 for an e-mail regarding nothing
	cf         caseFacts
	outgoing   bool
	unresolved bool   // the sender's address matched no record
	stranger   string // that address
	contact    int    // the customer-side contact
	subject    string
	created    time.Time
}

func (o *Org) emailFacts(j int) emailFacts {
	caseEmails := o.emailStart[len(o.emailStart)-1]
	r := newRnd(o.seed, "emailfacts", j)
	var f emailFacts
	if j >= caseEmails {
		f.c, f.k = -1, j-caseEmails
		f.contact = r.intn(o.Count("contact"))
		f.subject = pick(r, []string{"Question about your newsletter", "Unsubscribe", "Partnership enquiry", "Out of office"})
		f.created = anchor.AddDate(0, -6, 0).Add(time.Duration(r.intn(150*24*3600)) * time.Second)
	} else {
		f.c, f.k = locate(j, o.emailStart, o.cases, o.emailsOfCase)
		f.cf = o.caseFacts(f.c)
		f.contact = f.cf.requester
		f.outgoing = f.k > 0 && r.chance(55)
		f.subject = f.cf.title
		if f.k > 0 {
			f.subject = "RE: " + f.cf.title
		}
		f.created = o.emailTime(f.c, f.k, f.cf.created)
	}
	if !f.outgoing {
		missing := o.person(f.contact).missingEmail
		f.unresolved = j == 0 || missing || r.chance(2)
		f.stranger = fmt.Sprintf("unknown.sender%d@%s", j, pick(r, domains))
	}
	return f
}

func (o *Org) emailRow(j int) Row {
	f := o.emailFacts(j)
	r := newRnd(o.seed, "email", j)
	e := o.schemas["email"]
	owner := o.agent(r)
	if f.c >= 0 {
		owner = f.cf.owner
	}
	sent := f.created.Add(time.Duration(1+r.intn(90)) * time.Second)
	end := sent.Add(time.Duration(r.intn(60)) * time.Second)
	state := 1
	status := 4 // Received
	if f.outgoing {
		status = 3 // Sent
	}
	row := Row{
		"activityid": o.ID("email", j), "subject": f.subject, "activitytypecode": "email",
		"description": emailBody(f, r), "directioncode": f.outgoing,
		"statecode": state, "statuscode": status, "prioritycode": 1,
		"createdon": f.created, "senton": sent, "actualend": end, "actualstart": nil,
		"modifiedon": end.Add(time.Minute), "messageid": fmt.Sprintf("<%s@mail.example.com>", o.ID("email", j)[:18]),
		"ownerid": o.ref("systemuser", owner), "owninguser": o.ref("systemuser", owner),
		"createdby": o.ref("systemuser", owner), "modifiedby": o.ref("systemuser", owner),
		"regardingobjectid": nil, "versionnumber": o.version("email", j), "attachmentcount": o.attachmentsOfEmail(j),
		"mimetype": "text/html",
	}
	if _, ok := e.byName["statuscode"]; ok && !hasStatus(e, status) {
		row["statuscode"] = statusFor(e, state, r)
	}
	if f.c >= 0 {
		row["regardingobjectid"] = o.ref("incident", f.c)
		if f.cf.queue >= 0 && !f.outgoing {
			row["acceptingentityid"] = o.ref("queue", f.cf.queue)
		}
	}
	from, to := o.emailAddresses(f, owner)
	row["sender"], row["torecipients"] = nilIfEmpty(from), nilIfEmpty(to)
	switch {
	case f.outgoing:
		row["emailsender"] = o.ref("systemuser", owner)
	case !f.unresolved:
		row["emailsender"] = o.ref("contact", f.contact)
	}
	return row
}

func hasStatus(e *Entity, v int) bool {
	_, ok := e.Attribute("statuscode").OptionSet.Label(v)
	return ok
}

func (o *Org) emailAddresses(f emailFacts, owner int) (from, to string) {
	contactAddr := strings.TrimSpace(o.person(f.contact).email)
	agentAddr := o.user(owner).email
	if f.outgoing {
		return agentAddr, contactAddr
	}
	if f.unresolved {
		contactAddr = f.stranger
	}
	if f.c >= 0 && f.cf.queue >= 0 {
		return contactAddr, o.queueRow(f.cf.queue)["emailaddress"].(string)
	}
	return contactAddr, agentAddr
}

// emailBody renders clean or messy HTML, the way years of mail clients left it.
func emailBody(f emailFacts, r *rnd) string {
	text := "Hello,<br>regarding &quot;" + htmlEscape(f.subject) + "&quot; — any update?"
	if f.outgoing {
		text = "Hi,<br>thanks for your patience. We have looked into &quot;" + htmlEscape(f.subject) + "&quot; and applied a fix."
	}
	switch r.intn(5) {
	case 0:
		return "<div><p>" + text + "</p><p>Best regards</p></div>"
	case 1:
		return `<html><head><style>p{margin:0}</style><script type="text/javascript">var tracking=1;</script></head>` +
			`<body><font face="Arial" size="2" color="#333333">` + text + `&nbsp;&nbsp;<br><br>` +
			`<table border="1" cellpadding="0" style="border-collapse:collapse"><tr><td style="color:red;width:120px">Order</td>` +
			`<td>` + fmt.Sprint(1000+r.intn(9000)) + `</td></tr></table></font></body></html>`
	case 2:
		return `<div class="WordSection1"><p class="MsoNormal" style="margin:0in;font-family:Calibri,sans-serif;font-size:11pt">` +
			text + `<o:p>&nbsp;</o:p></p></div><div style="border:none;border-top:solid #E1E1E1 1.0pt">` +
			`<p><b>From:</b> support<br><b>Sent:</b> earlier</p></div><blockquote style="margin-left:30px">&gt; previous message</blockquote>`
	case 3:
		return `<p>` + text + `</p><p><img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==" alt="logo"></p><p>Приветствую 👋 / 你好</p>`
	default:
		return `<pre>` + strings.ReplaceAll(text, "<br>", "\n") + `</pre>`
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// ---- activity parties ----

func (o *Org) partiesOfEmail(j int) int { return 2 + int(hash64(o.seed, "nparty", int64(j))%3) }

func (o *Org) activitypartyRow(a int) Row {
	j, slot := locate(a, o.partyStart, o.Count("email"), o.partiesOfEmail)
	f := o.emailFacts(j)
	r := newRnd(o.seed, "activityparty", a)
	email := o.emailRow(j)
	owner := email["ownerid"].(Ref)
	row := Row{
		"activitypartyid": o.ID("activityparty", a), "activityid": Ref{LogicalName: "email", ID: o.ID("email", j), Name: f.subject},
		"ownerid": owner, "ispartydeleted": false, "donotemail": false, "donotfax": false,
		"donotphone": false, "donotpostalmail": false, "instancetypecode": 0,
		"versionnumber": o.version("activityparty", a),
	}
	var party any
	var addr string
	switch {
	case slot == 0: // sender
		row["participationtypemask"] = 1
		party, addr = o.senderParty(f, owner)
	case slot == 1: // to
		row["participationtypemask"] = 2
		party, addr = o.toParty(f, owner)
	default: // cc: a colleague agent
		row["participationtypemask"] = 3
		u := o.agent(r)
		party, addr = o.ref("systemuser", u), o.user(u).email
	}
	row["partyid"], row["addressused"] = party, nilIfEmpty(addr)
	if party == nil {
		row["unresolvedpartyname"] = addr
	}
	return row
}

func (o *Org) senderParty(f emailFacts, owner Ref) (any, string) {
	if f.outgoing {
		i, _ := o.IndexOf("systemuser", owner.ID)
		return owner, o.user(i).email
	}
	if f.unresolved {
		return nil, f.stranger
	}
	return o.ref("contact", f.contact), strings.TrimSpace(o.person(f.contact).email)
}

func (o *Org) toParty(f emailFacts, owner Ref) (any, string) {
	if f.outgoing {
		return o.ref("contact", f.contact), strings.TrimSpace(o.person(f.contact).email)
	}
	if f.c >= 0 && f.cf.queue >= 0 {
		return o.ref("queue", f.cf.queue), o.queueRow(f.cf.queue)["emailaddress"].(string)
	}
	i, _ := o.IndexOf("systemuser", owner.ID)
	return owner, o.user(i).email
}

// ---- notes ----

// caseNotes is the number of notes on cases; notes on contacts follow them.
func (o *Org) caseNotes() int { return 2 + o.cases/20 }

func (o *Org) annotationRow(a int) Row {
	if k := a - o.caseNotes(); k >= 0 {
		return o.contactNoteRow(a, k)
	}
	r := newRnd(o.seed, "annotation", a)
	c := int((int64(a) * 7919) % int64(o.cases))
	cf := o.caseFacts(c)
	created := cf.created.Add(time.Duration(1+r.intn(48)) * time.Hour)
	row := Row{
		"annotationid": o.ID("annotation", a), "subject": pick(r, []string{"Call notes", "Screenshot", "Customer log file", "Internal remark"}),
		"notetext": "Spoke with customer about " + cf.title + ". Follow-up agreed.",
		"objectid": o.ref("incident", c), "objecttypecode": "incident", "isdocument": false,
		"filename": nil, "mimetype": nil, "documentbody": nil, "filesize": 0,
		"ownerid": o.ref("systemuser", cf.owner), "owninguser": o.ref("systemuser", cf.owner),
		"createdby": o.ref("systemuser", cf.owner), "modifiedby": o.ref("systemuser", cf.owner),
		"createdon": created, "modifiedon": created, "langid": "en", "versionnumber": o.version("annotation", a),
	}
	if r.chance(40) {
		body := []byte(fmt.Sprintf("log line 1 for %s\nlog line 2\n", cf.ticket))
		row["isdocument"], row["filename"], row["mimetype"] = true, fmt.Sprintf("log-%d.txt", a), "text/plain"
		row["documentbody"], row["filesize"] = LiteralBlob(body), len(body)
	}
	return row
}
