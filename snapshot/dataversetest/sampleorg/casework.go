package sampleorg

import (
	"fmt"
	"time"
)

// Stories of the work done on a case besides e-mail: routing, calls, tasks,
// appointments, SLA timers, the resolution and warranty claims. Every row
// regards its case and lies between the case's creation and its closing.

// closedAt is when the case was resolved or cancelled (incident.deactivatedon),
// or for an active case when it was last touched.
func (o *Org) closedAt(c int, cf caseFacts) time.Time {
	return o.emailTime(c, cf.nEmails-1, cf.created).Add(time.Hour)
}

// during returns a time in the case's life, frac in [0,1).
func during(cf caseFacts, end time.Time, frac float64) time.Time {
	span := end.Sub(cf.created)
	return cf.created.Add(time.Duration(float64(span) * frac)).Truncate(time.Second)
}

func (o *Org) activityBase(table string, i int, c int, cf caseFacts, subject string, created time.Time) Row {
	u := o.ref("systemuser", cf.owner)
	return Row{
		"subject": subject, "activitytypecode": table, "regardingobjectid": o.ref("incident", c),
		"prioritycode": 1, "ownerid": u, "owninguser": u, "createdby": u, "modifiedby": u,
		"createdon": created, "modifiedon": created.Add(time.Duration(1+o.h(table+"/mod", i)%600) * time.Minute),
	}
}

func (o *Org) incidentresolutionRow(i int) Row {
	c, _ := o.lay["incidentresolution"].locate(i)
	cf := o.caseFacts(c)
	end := o.closedAt(c, cf)
	r := newRnd(o.seed, "incidentresolution", i)
	row := o.activityBase("incidentresolution", i, c, cf, pick(r, []string{"Problem solved",
		"Information provided", "Fixed in release 4.2", "Customer confirmed the fix", "Résolu — merci !"}), end)
	row["regardingobjectid"] = nil // the resolution points at its case through incidentid
	row["incidentid"] = o.ref("incident", c)
	row["description"] = "Resolution of " + cf.ticket + ": " + cf.title
	row["timespent"] = 5 + r.intn(240)
	row["actualend"], row["modifiedon"] = end, end
	row["statecode"], row["statuscode"] = 1, 2
	return row
}

func (o *Org) phonecallRow(i int) Row {
	c, k := o.lay["phonecall"].locate(i)
	cf := o.caseFacts(c)
	end := o.closedAt(c, cf)
	r := newRnd(o.seed, "phonecall", i)
	start := during(cf, end, (float64(k)+r.float())/2)
	incoming := r.chance(60)
	subject := "Call with customer: " + cf.title
	if incoming {
		subject = "Customer called about " + cf.title
	}
	row := o.activityBase("phonecall", i, c, cf, subject, start)
	mins := 1 + r.intn(45)
	row["directioncode"], row["phonenumber"] = !incoming, fmt.Sprintf("+%d %03d %04d", 1+r.intn(60), r.intn(1000), r.intn(10000))
	row["description"] = pick(r, []string{"Walked through the reset steps.", "Left a voicemail.",
		"Kunde zurückgerufen, Problem besteht weiter.", "Customer will send logs."})
	row["actualstart"], row["actualdurationminutes"] = start, mins
	row["actualend"] = start.Add(time.Duration(mins) * time.Minute)
	switch {
	case cf.state == 0 && k == o.callsOfCase(c)-1 && r.chance(50):
		row["statecode"], row["statuscode"] = 0, 1 // a call still to make
		row["actualend"], row["actualdurationminutes"], row["scheduledstart"] = nil, nil, start.Add(24*time.Hour)
	case r.chance(5):
		row["statecode"], row["statuscode"] = 2, 3
	case incoming:
		row["statecode"], row["statuscode"] = 1, 4
	default:
		row["statecode"], row["statuscode"] = 1, 2
	}
	return row
}

func (o *Org) taskRow(i int) Row {
	c, _ := o.lay["task"].locate(i)
	cf := o.caseFacts(c)
	end := o.closedAt(c, cf)
	r := newRnd(o.seed, "task", i)
	start := during(cf, end, r.float()/2)
	row := o.activityBase("task", i, c, cf, pick(r, []string{"Follow up with customer", "Check logs",
		"Order replacement part", "Escalate to engineering", "Rückruf vereinbaren"})+" — "+cf.ticket, start)
	row["scheduledstart"], row["scheduledend"] = start, start.Add(time.Duration(1+r.intn(10))*24*time.Hour)
	row["prioritycode"] = r.intn(3)
	switch cf.state {
	case 0:
		row["statecode"] = 0
		row["statuscode"] = pick(r, []int{2, 3, 4, 7})
		row["percentcomplete"] = pick(r, []int{0, 0, 25, 50, 75})
	case 1:
		row["statecode"], row["statuscode"], row["percentcomplete"] = 1, 5, 100
		row["actualend"], row["actualdurationminutes"] = end.Add(-time.Duration(r.intn(50))*time.Minute), 5+r.intn(120)
	default:
		row["statecode"], row["statuscode"], row["percentcomplete"] = 2, 6, 0
	}
	return row
}

func (o *Org) appointmentRow(i int) Row {
	c, _ := o.lay["appointment"].locate(i)
	cf := o.caseFacts(c)
	end := o.closedAt(c, cf)
	r := newRnd(o.seed, "appointment", i)
	created := during(cf, end, r.float()/3)
	start := created.Add(time.Duration(1+r.intn(5)) * 24 * time.Hour).Truncate(time.Hour)
	mins := pick(r, []int{30, 60, 60, 90})
	row := o.activityBase("appointment", i, c, cf, "On-site visit: "+cf.title, created)
	row["scheduledstart"], row["scheduledend"] = start, start.Add(time.Duration(mins)*time.Minute)
	row["scheduleddurationminutes"], row["isalldayevent"] = mins, false
	row["location"] = pick(r, cities).city
	switch {
	case cf.state == 0:
		row["statecode"], row["statuscode"] = 3, 5
	case cf.state == 2 || r.chance(10):
		row["statecode"], row["statuscode"] = 2, 4
	default:
		row["statecode"], row["statuscode"] = 1, 3
		row["actualstart"], row["actualend"] = start, start.Add(time.Duration(mins)*time.Minute)
	}
	return row
}

func (o *Org) queueitemRow(i int) Row {
	c, k := o.lay["queueitem"].locate(i)
	cf := o.caseFacts(c)
	n := o.queueItemsOfCase(c)
	q, entered := cf.queue, cf.created.Add(time.Duration(1+o.h("qentered", c)%48)*time.Hour)
	active := cf.state == 0
	if k < n-1 { // the older item of a transferred case: another queue, closed
		q, entered, active = (cf.queue+1)%o.Count("queue"), cf.created.Add(5*time.Minute), false
	}
	u := o.ref("systemuser", cf.owner)
	row := Row{
		"title": cf.title, "queueid": o.ref("queue", q), "objectid": o.ref("incident", c), "objecttypecode": 112,
		"enteredon": entered, "priority": cf.priority, "ownerid": u, "owninguser": u, "createdby": u, "modifiedby": u,
		"createdon": entered, "modifiedon": entered.Add(time.Minute), "statecode": 0, "statuscode": 1,
		"sender": nilIfEmpty(o.person(cf.requester).email), "torecipients": nil, "workerid": nil,
	}
	if !active {
		row["statecode"], row["statuscode"] = 1, 2
	}
	if active && o.h("qworker", c)%2 == 0 {
		row["workerid"], row["workeridmodifiedon"] = u, entered.Add(30*time.Minute)
	}
	return row
}

var kpiNames = []string{"First Response By KPI", "Resolve By KPI"}

func (o *Org) slakpiinstanceRow(i int) Row {
	c, k := o.lay["slakpiinstance"].locate(i)
	cf := o.caseFacts(c)
	end := o.closedAt(c, cf)
	r := newRnd(o.seed, "slakpiinstance", i)
	sla := int(o.h("casesla", c) % 2)
	limit := []time.Duration{8 * time.Hour, 72 * time.Hour}[k]
	fail := cf.created.Add(limit)
	u := o.ref("systemuser", cf.owner)
	row := Row{
		"name": kpiNames[k], "regarding": o.ref("incident", c), "regardingobjecttypecode": "incident",
		"msdyn_slaitemid": o.ref("slaitem", 2*sla+k), "failuretime": fail, "computedfailuretime": fail,
		"warningtime": fail.Add(-limit / 4), "computedwarningtime": fail.Add(-limit / 4), "elapsedtime": 0,
		"ownerid": u, "owninguser": u, "createdby": u, "modifiedby": u, "createdon": cf.created,
		"modifiedon": cf.created.Add(time.Minute), "warningtimereached": 0,
	}
	done := o.emailTime(c, min(1, cf.nEmails-1), cf.created) // first reply
	if k == 1 {
		done = end
	}
	switch {
	case cf.state == 2:
		row["status"] = 5
	case cf.state == 0 && (k == 1 || cf.nEmails == 1):
		row["status"] = pick(r, []int{0, 0, 2, 3})
		if row["status"] == 3 {
			row["pausedon"] = cf.created.Add(limit / 2)
		}
	case done.After(fail):
		row["status"], row["warningtimereached"], row["modifiedon"] = 1, 1, fail
	default:
		row["status"], row["succeededon"], row["modifiedon"] = 4, done, done
	}
	return row
}

func (o *Org) warrantyclaimRow(i int) Row {
	c, _ := o.lay["new_warrantyclaim"].locate(i)
	cf := o.caseFacts(c)
	r := newRnd(o.seed, "new_warrantyclaim", i)
	created := cf.created.Add(time.Duration(1+r.intn(72)) * time.Hour)
	u := o.ref("systemuser", cf.owner)
	status := 100000000 + r.intn(4)
	row := Row{
		"new_name": fmt.Sprintf("WC-%06d", i), "new_incidentid": o.ref("incident", c),
		"new_claimamount":  decimalNumber(float64(r.intn(250000))/100, 2),
		"new_purchasedate": time.Date(created.Year()-1, time.Month(1+r.intn(12)), 1+r.intn(28), 0, 0, 0, 0, time.UTC),
		"new_serialnumber": fmt.Sprintf("SN-%08X", o.h("wcserial", i)&0xffffffff), "new_claimstatus": status,
		"statecode": 0, "statuscode": 1, "ownerid": u, "owninguser": u, "createdby": u, "modifiedby": u,
		"createdon": created, "modifiedon": created.Add(time.Duration(r.intn(400)) * time.Hour),
	}
	if status >= 100000002 {
		row["statecode"], row["statuscode"] = 1, 2
	}
	return row
}

// float returns a value in [0, 1).
func (r *rnd) float() float64 { return float64(r.u64()>>11) / (1 << 53) }
