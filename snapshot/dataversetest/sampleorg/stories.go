package sampleorg

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ---- people ----

type personFacts struct {
	first, last, full string
	email             string // "" when the contact has none
	missingEmail      bool
	duplicateOf       int // contact index whose email this one repeats, -1 if none
	account           int // parent account index, -1 if none
}

// person is the story of contact i: name, e-mail (5% none, 3% a
// case/space variant of another contact's), parent account.
func (o *Org) person(i int) personFacts {
	p, wantDup, r := o.personCore(i)
	if !wantDup {
		return p
	}
	for try := 0; try < 8; try++ {
		j := r.intn(i)
		pj, jDup, _ := o.personCore(j)
		if !pj.missingEmail && !jDup {
			p.duplicateOf = j
			p.email = variant(pj.email, r)
			return p
		}
	}
	return p // no original found: keeps its own address
}

// personCore draws everything but the duplicate's source, so that resolving
// a duplicate never recurses.
func (o *Org) personCore(i int) (personFacts, bool, *rnd) {
	r := newRnd(o.seed, "person", i)
	p := personFacts{duplicateOf: -1, account: -1}
	pool := pools[weighted(r, poolWeights)]
	f, l := pick(r, pool.first), pick(r, pool.last)
	p.first, p.last = f.native, l.native
	if r.chance(2) {
		p.first += " " + pick(r, emojis)
	}
	if pool.familyFirst {
		p.full = p.last + p.first
	} else {
		p.full = p.first + " " + p.last
	}
	nA := o.Count("account")
	switch {
	case i < nA:
		p.account = i // contact i is account i's primary contact
	case r.chance(75):
		p.account = r.intn(nA)
	}
	p.email = fmt.Sprintf("%s.%s%d@%s", f.ascii, l.ascii, i, pick(r, domains))
	roll := r.intn(1000)
	switch {
	case i > 0 && roll < 50:
		p.missingEmail, p.email = true, ""
	case i > 20 && roll < 80:
		return p, true, r
	}
	return p, false, r
}

// variant changes only case or surrounding spaces.
func variant(email string, r *rnd) string {
	switch r.intn(3) {
	case 0:
		return strings.ToUpper(email[:1]) + email[1:]
	case 1:
		return "  " + email + " "
	default:
		return strings.ToUpper(email)
	}
}

func weighted(r *rnd, w []int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	n := r.intn(total)
	for i, x := range w {
		if n < x {
			return i
		}
		n -= x
	}
	return len(w) - 1
}

type userFacts struct {
	full, email   string
	app, disabled bool
}

func (o *Org) user(i int) userFacts {
	if i == 0 {
		return userFacts{full: "# d2i Integration", app: true}
	}
	a := agentNames[(i-1)%len(agentNames)]
	u := userFacts{full: a.native, email: a.ascii + "@helpdesk.example.com"}
	if k := (i - 1) / len(agentNames); k > 0 {
		u.full = fmt.Sprintf("%s %d", a.native, k+1)
		u.email = fmt.Sprintf("%s%d@helpdesk.example.com", a.ascii, k+1)
	}
	u.disabled = i%9 == 8
	return u
}

// agent picks an interactive user (never the application user 0).
func (o *Org) agent(r *rnd) int { return 1 + r.intn(o.Count("systemuser")-1) }

func (o *Org) queueName(i int) string {
	n := queueNames[i%len(queueNames)]
	if k := i / len(queueNames); k > 0 {
		n = fmt.Sprintf("%s %d", n, k+1)
	}
	return n
}

func (o *Org) accountName(i int) string {
	r := newRnd(o.seed, "accountname", i)
	s := pick(r, companyStems)
	if suf := pick(r, companySuffixes); suf != "" {
		s += " " + suf
	}
	return fmt.Sprintf("%s (%d)", s, i)
}

// ---- rows: systemuser, queue, account, contact ----

func (o *Org) systemuserRow(i int) Row {
	r := newRnd(o.seed, "systemuser", i)
	u := o.user(i)
	created := anchor.AddDate(-6, 0, 0).Add(time.Duration(i) * 24 * time.Hour)
	row := Row{
		"systemuserid": o.ID("systemuser", i), "fullname": u.full, "isdisabled": u.disabled,
		"createdon": created, "modifiedon": created.Add(time.Duration(r.intn(900)) * 24 * time.Hour),
		"accessmode": 0, "versionnumber": o.version("systemuser", i),
	}
	if u.app {
		row["accessmode"] = 4
		row["applicationid"] = guidFrom(hash64(o.seed, "appid", 0), 0x0a, 1)
		row["internalemailaddress"] = nil
		row["domainname"] = "d2i-integration@helpdesk.example.com"
		return row
	}
	first, last, _ := strings.Cut(u.full, " ")
	row["firstname"], row["lastname"] = first, last
	row["internalemailaddress"] = u.email
	row["domainname"] = u.email
	row["title"] = pick(r, []string{"Support Agent", "Senior Support Agent", "Team Lead", "Support Manager"})
	return row
}

func (o *Org) queueRow(i int) Row {
	created := anchor.AddDate(-5, 0, i)
	name := o.queueName(i)
	slug := strings.ToLower(strings.ReplaceAll(name, " ", "-"))
	return Row{
		"queueid": o.ID("queue", i), "name": name, "emailaddress": slug + "@support.example.com",
		"description": "Cases for " + name + ".", "queueviewtype": 0, "queuetypecode": 1,
		"ownerid": o.ref("systemuser", 1+i%(o.Count("systemuser")-1)), "statecode": 0, "statuscode": 1,
		"createdon": created, "modifiedon": created.AddDate(0, 3, 0), "versionnumber": o.version("queue", i),
	}
}

func (o *Org) accountRow(i int) Row {
	r := newRnd(o.seed, "account", i)
	e := o.schemas["account"]
	c := pick(r, cities)
	created := anchor.AddDate(-5, 0, 0).Add(time.Duration(r.intn(700*24)) * time.Hour)
	owner := o.agent(r)
	state := 0
	if r.chance(5) {
		state = 1
	}
	name := o.accountName(i)
	row := Row{
		"accountid": o.ID("account", i), "name": name, "accountnumber": fmt.Sprintf("ACC-%05d", i),
		"telephone1":    fmt.Sprintf("+%d %03d %04d", 1+r.intn(60), r.intn(1000), r.intn(10000)),
		"emailaddress1": fmt.Sprintf("info%d@%s", i, pick(r, domains)),
		"websiteurl":    fmt.Sprintf("https://www.company%d.example.com", i),
		"address1_city": c.city, "address1_country": c.country,
		"address1_line1":    fmt.Sprintf("%d Main Street", 1+r.intn(400)),
		"industrycode":      optionValue(e, "industrycode", r),
		"numberofemployees": 1 + r.intn(5000),
		"revenue":           money(float64(r.intn(50000000))+float64(r.intn(100))/100, e.Attribute("revenue")),
		"primarycontactid":  o.ref("contact", i),
		"ownerid":           o.ref("systemuser", owner), "owninguser": o.ref("systemuser", owner),
		"createdby": o.ref("systemuser", owner), "modifiedby": o.ref("systemuser", owner),
		"createdon": created, "modifiedon": created.Add(time.Duration(r.intn(300*24)) * time.Hour),
		"statecode": state, "statuscode": statusFor(e, state, r), "versionnumber": o.version("account", i),
	}
	if r.chance(10) && i > 0 {
		row["parentaccountid"] = o.ref("account", r.intn(i))
	}
	return row
}

func (o *Org) contactRow(i int) Row {
	r := newRnd(o.seed, "contact", i)
	e := o.schemas["contact"]
	p := o.person(i)
	c := pick(r, cities)
	created := anchor.AddDate(-4, 0, 0).Add(time.Duration(r.intn(365*24)) * time.Hour)
	owner := o.agent(r)
	row := Row{
		"contactid": o.ID("contact", i), "firstname": p.first, "lastname": p.last, "fullname": p.full,
		"emailaddress1": nilIfEmpty(p.email), "address1_city": c.city, "address1_country": c.country,
		"telephone1":                 fmt.Sprintf("+%d (%03d) %03d-%04d", 1+r.intn(60), r.intn(1000), r.intn(1000), r.intn(10000)),
		"jobtitle":                   pick(r, []string{"Office Manager", "IT Admin", "CFO", "Buyer", "Owner", "Developer"}),
		"preferredcontactmethodcode": optionValue(e, "preferredcontactmethodcode", r),
		"donotemail":                 r.chance(3), "donotphone": false, "donotbulkemail": r.chance(20),
		"ownerid": o.ref("systemuser", owner), "owninguser": o.ref("systemuser", owner),
		"createdby": o.ref("systemuser", owner), "modifiedby": o.ref("systemuser", owner),
		"createdon": created, "modifiedon": created.Add(time.Duration(r.intn(400*24)) * time.Hour),
		"statecode": 0, "statuscode": statusFor(e, 0, r), "versionnumber": o.version("contact", i),
		"birthdate": nil,
	}
	if p.account >= 0 {
		row["parentcustomerid"] = o.ref("account", p.account)
	} else {
		row["parentcustomerid"] = nil
	}
	if r.chance(30) {
		row["birthdate"] = time.Date(1950+r.intn(55), time.Month(1+r.intn(12)), 1+r.intn(28), 0, 0, 0, 0, time.UTC)
	}
	return row
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (o *Org) version(table string, i int) int64 {
	return 1000000 + int64(tableCodes[table])*100000000 + int64(i)*7 + int64(hash64(o.seed, "v/"+table, int64(i))%5)
}

// optionValue picks one of the attribute's option values.
func optionValue(e *Entity, col string, r *rnd) any {
	a := e.Attribute(col)
	if a == nil || a.OptionSet == nil || len(a.OptionSet.Options) == 0 {
		return nil
	}
	return pick(r, a.OptionSet.Options).Value
}

// statusFor picks a statuscode whose metadata State equals state.
func statusFor(e *Entity, state int, r *rnd) any {
	a := e.Attribute("statuscode")
	var vals []int
	for _, op := range a.OptionSet.Options {
		if op.State != nil && *op.State == state {
			vals = append(vals, op.Value)
		}
	}
	if len(vals) == 0 {
		return nil
	}
	return pick(r, vals)
}

func money(v float64, a *Attribute) json.Number {
	prec := 2
	if a != nil && a.Precision != nil {
		prec = *a.Precision
	}
	return decimalNumber(v, prec)
}
