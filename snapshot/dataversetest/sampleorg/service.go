package sampleorg

import (
	"fmt"
	"time"
)

// Teams, memberships, business hours, SLAs and entitlements: the service
// configuration the cases run under. Small tables, one story each.

func (o *Org) adminRef() Ref { return o.ref("systemuser", 1) }

func (o *Org) configRow(i int, created time.Time, owned bool) Row {
	row := Row{"createdon": created, "modifiedon": created.AddDate(0, 1+i%5, 0)}
	if owned {
		u := o.adminRef()
		row["ownerid"], row["owninguser"], row["createdby"], row["modifiedby"] = u, u, u, u
	}
	return row
}

// Team t < queues is the owner team of queue t; the last team is the
// business unit's default team.
func (o *Org) teamRow(t int) Row {
	row := o.configRow(t, anchor.AddDate(-5, 0, t), false)
	if t == o.Count("team")-1 {
		row["name"], row["teamtype"], row["isdefault"] = "Helpdesk (default team)", 0, true
		row["description"] = "Default team of the business unit."
		return row
	}
	row["name"], row["teamtype"], row["isdefault"] = o.queueName(t)+" Team", pick(newRnd(o.seed, "teamtype", t), []int{0, 0, 1}), false
	row["queueid"], row["administratorid"] = o.ref("queue", t), o.ref("systemuser", 1+t%(o.Count("systemuser")-1))
	row["description"] = "Agents working the " + o.queueName(t) + " queue."
	return row
}

// member picks the k-th distinct interactive user of a group.
func (o *Org) member(label string, g, k int) int {
	agents := o.Count("systemuser") - 1
	return 1 + (int(o.h(label, g)%uint64(agents))+k)%agents
}

func (o *Org) teammembershipRow(i int) Row {
	t, k := o.lay["teammembership"].locate(i)
	return Row{"teamid": o.ID("team", t), "systemuserid": o.ID("systemuser", o.member("teammember", t, k))}
}

func (o *Org) queuemembershipRow(i int) Row {
	q, k := o.lay["queuemembership"].locate(i)
	return Row{"queueid": o.ID("queue", q), "systemuserid": o.ID("systemuser", o.member("queuemember", q, k))}
}

var calendars = []struct {
	name, desc string
	typ        int
}{{"Support Hours (Mon-Fri 8-18)", "Business hours of the support desk.", 1},
	{"Premium 24x7", "Round-the-clock hours for premium customers.", 1},
	{"Holidays 2025", "Public holidays observed by support.", 2}}

func (o *Org) calendarRow(i int) Row {
	c := calendars[i]
	row := o.configRow(i, anchor.AddDate(-5, 0, 0), false)
	row["name"], row["description"], row["type"] = c.name, c.desc, c.typ
	if c.typ == 1 {
		row["holidayschedulecalendarid"] = o.ref("calendar", 2)
	}
	return row
}

var slaNames = []string{"Standard SLA", "Premium SLA", "Legacy SLA (web client)"}

func (o *Org) slaRow(i int) Row {
	row := o.configRow(i, anchor.AddDate(-4, 0, 0), true)
	row["name"], row["description"] = slaNames[i], "Response and resolution targets: "+slaNames[i]+"."
	row["applicablefrom"], row["primaryentityotc"] = "createdon", 112
	row["businesshoursid"] = o.ref("calendar", min(i, 1))
	row["isdefault"], row["allowpauseresume"] = i == 0, true
	row["slatype"], row["slaversion"] = 1, 100000001
	row["statecode"], row["statuscode"] = 1, 2
	if i == 2 { // a retired web-client SLA, still referenced by old entitlements
		row["slatype"], row["slaversion"], row["statecode"], row["statuscode"] = 0, 100000000, 0, 1
	}
	return row
}

// slaitem 2s is sla s's first-response item, 2s+1 its resolve-by item.
func (o *Org) slaitemRow(i int) Row {
	s, k := i/2, i%2
	row := o.configRow(i, anchor.AddDate(-4, 0, 1), false)
	row["name"] = []string{"First response", "Resolve by"}[k] + " — " + slaNames[s]
	row["slaid"], row["businesshoursid"] = o.ref("sla", s), o.ref("calendar", min(s, 1))
	mins := [][]int{{480, 4320}, {60, 1440}, {480, 4320}}[s][k]
	row["failureafter"], row["warnafter"], row["sequencenumber"] = mins, mins*3/4, k+1
	row["relatedfield"] = []string{"firstresponsebykpiid", "resolvebykpiid"}[k]
	row["allowpauseresume"] = k == 1
	row["applicablewhenxml"] = `<and><condition attribute="prioritycode" operator="in"><value>1</value><value>2</value><value>3</value></condition></and>`
	row["successconditionsxml"] = []string{
		`<and><condition attribute="firstresponsesent" operator="eq"><value>1</value></condition></and>`,
		`<and><condition attribute="statecode" operator="eq"><value>1</value></condition></and>`}[k]
	return row
}

var templateNames = []string{"Basic support (10 cases)", "Premium support (40 hours)", "Web-only support"}

func (o *Org) terms(row Row, r *rnd, sla int, start time.Time) {
	row["allocationtypecode"], row["decreaseremainingon"] = sla%2, r.intn(2)
	row["totalterms"] = decimalNumber(float64([]int{10, 40, 25}[sla]), 2)
	row["startdate"] = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
	row["enddate"] = row["startdate"].(time.Time).AddDate(1, 0, 0)
	row["slaid"], row["restrictcasecreation"], row["kbaccesslevel"] = o.ref("sla", sla), sla == 0, sla%3
}

func (o *Org) entitlementtemplateRow(i int) Row {
	row := o.configRow(i, anchor.AddDate(-4, 0, 2), false)
	row["name"], row["description"] = templateNames[i], "Template for "+templateNames[i]+"."
	o.terms(row, newRnd(o.seed, "entitlementtemplate", i), i, anchor.AddDate(-1, 0, 0))
	return row
}

// Entitlements belong to accounts (a few to contacts); some expired, one in
// draft, the rest active, each from one of the templates.
func (o *Org) entitlementRow(i int) Row {
	r := newRnd(o.seed, "entitlement", i)
	tpl := i % 3
	start := anchor.AddDate(-3, 0, 0).Add(time.Duration(r.intn(2*365)) * 24 * time.Hour)
	row := o.configRow(i, start.AddDate(0, 0, -7), true)
	o.terms(row, r, tpl, start)
	cust := o.ref("account", i%o.Count("account"))
	if i%7 == 6 {
		cust = o.ref("contact", i%o.Count("contact"))
	}
	row["customerid"], row["entitlementtemplateid"] = cust, o.ref("entitlementtemplate", tpl)
	row["name"] = fmt.Sprintf("%s — %s", templateNames[tpl], cust.Name)
	row["remainingterms"] = decimalNumber(float64(r.intn([]int{10, 40, 25}[tpl]+1)), 2)
	row["isdefault"], row["entitytype"] = i%3 == 0, 0
	switch end := row["enddate"].(time.Time); {
	case i == 0:
		row["statecode"], row["statuscode"] = 0, 0
	case end.Before(anchor):
		row["statecode"], row["statuscode"] = 3, 3
	default:
		row["statecode"], row["statuscode"] = 1, 1
	}
	return row
}

var channelNames = map[int]string{1: "Phone", 2: "Email", 3: "Web"}

func (o *Org) entitlementchannelRow(i int) Row {
	e, k := o.lay["entitlementchannel"].locate(i)
	ch := k + 1
	row := o.configRow(i, anchor.AddDate(-3, 0, 0), false)
	row["name"], row["channel"], row["entitlementid"] = channelNames[ch], ch, o.ref("entitlement", e)
	total := 5 + int(o.h("chterms", i)%20)
	row["totalterms"] = decimalNumber(float64(total), 2)
	row["remainingterms"] = decimalNumber(float64(int(o.h("chleft", i)%uint64(total+1))), 2)
	return row
}
