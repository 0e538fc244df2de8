package sampleorg

import (
	"fmt"
	"strings"
	"time"
)

// Files: e-mail attachments and notes on contacts. Bodies are Blobs, so the
// large ones cost nothing until read.

type fileKind struct {
	name, mime string
	min, max   int64 // size range in bytes
}

var attachmentKinds = []fileKind{
	{"invoice-%d.pdf", "application/pdf", 30 << 10, 600 << 10},
	{"screenshot %d.png", "image/png", 20 << 10, 900 << 10},
	{"error-log-%d.txt", "text/plain", 1 << 10, 200 << 10},
	{"Übersicht Q%d.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 10 << 10, 300 << 10},
	{"image00%d.png", "image/png", 2 << 10, 30 << 10}, // inline signature image
	{"Forwarded message %d.eml", "message/rfc822", 5 << 10, 120 << 10},
}

func (k fileKind) draw(r *rnd, n int) (string, string, int64) {
	name := k.name
	if strings.Contains(name, "%d") {
		name = fmt.Sprintf(name, n)
	}
	return name, k.mime, k.min + int64(r.intn(int(k.max-k.min)))
}

// LargeFileThreshold is the org size from which e-mail 3 carries one large
// attachment (5-20 MB), the file that needs block download.
const LargeFileThreshold = 2000

func (o *Org) attachmentRow(i int) Row {
	j, k := o.lay["activitymimeattachment"].locate(i)
	f := o.emailFacts(j)
	r := newRnd(o.seed, "activitymimeattachment", i)
	var name, mime string
	var size int64
	switch {
	case o.attachmentsOfEmail(j) == 12: // a batch of phone photos (bug report br06)
		name, mime, size = fmt.Sprintf("IMG_%04d.jpg", 1+k), "image/jpeg", 40<<10+int64(r.intn(400<<10))
		if j == 2 && k == 11 { // a name no file system takes as is: separators, reserved characters
			name = "RE: photos 2/2 <from phone>?.jpg"
		}
	case j == 3 && o.cases >= LargeFileThreshold:
		// 11-20 MB: over the 10 MB default attachment cap of the mapping file.
		name, mime = "site survey (scanned).pdf", "application/pdf"
		size = 11<<20 + int64(o.h("largefile", 0)%(9<<20))
	default:
		name, mime, size = pick(r, attachmentKinds).draw(r, 1+r.intn(12))
	}
	row := Row{
		"filename": name, "mimetype": mime, "filesize": int(size), "body": genBlob(o.h("blob/att", i), size, mime),
		"objectid": Ref{LogicalName: "email", ID: o.ID("email", j), Name: f.subject}, "objecttypecode": "email",
		"attachmentnumber": k + 1, "attachmentcontentid": nil, "subject": nil,
		"createdon": f.created, "modifiedon": f.created,
	}
	if mime == "image/png" && size < 30<<10 {
		row["attachmentcontentid"] = fmt.Sprintf("image%03d.png@01DA%04X.%08X", k+1, o.h("cid", i)&0xffff, i)
	}
	return row
}

func (o *Org) contactNotes() int { return 1 + o.cases/40 }

var noteKinds = []fileKind{
	{"signed-contract-%d.pdf", "application/pdf", 80 << 10, 900 << 10},
	{"id-scan-%d.png", "image/png", 100 << 10, 700 << 10},
	{"call-transcript-%d.txt", "text/plain", 2 << 10, 40 << 10},
}

// contactNoteRow: note k on a contact. Half carry a file; note 0 always
// does, 1.5 MB (6 MB from LargeFileThreshold cases), to exercise block
// downloads of notes.
func (o *Org) contactNoteRow(a, k int) Row {
	r := newRnd(o.seed, "contactnote", k)
	ct := (k * 4931) % o.Count("contact")
	owner := o.agent(r)
	created := anchor.AddDate(-2, 0, 0).Add(time.Duration(r.intn(600*24)) * time.Hour)
	u := o.ref("systemuser", owner)
	row := Row{
		"annotationid": o.ID("annotation", a), "objectid": o.ref("contact", ct), "objecttypecode": "contact",
		"subject":    pick(r, []string{"Contract on file", "Customer preferences", "Identity check", "Änderungswunsch"}),
		"notetext":   pick(r, []string{"Prefers calls after 3pm.", "Signed contract attached.", "VIP — handle with care 🙂", ""}),
		"isdocument": false, "filename": nil, "mimetype": nil, "documentbody": nil, "filesize": 0,
		"ownerid": u, "owninguser": u, "createdby": u, "modifiedby": u, "createdon": created, "modifiedon": created,
		"langid": "en", "versionnumber": o.version("annotation", a),
	}
	if row["notetext"] == "" {
		row["notetext"] = nil
	}
	if k != 0 && r.chance(50) {
		return row
	}
	name, mime, size := pick(r, noteKinds).draw(r, k)
	if k == 0 {
		name, mime, size = "signed-contract-0.pdf", "application/pdf", 1536<<10
		if o.cases >= LargeFileThreshold {
			size = 6 << 20
		}
	}
	row["isdocument"], row["filename"], row["mimetype"], row["filesize"] = true, name, mime, int(size)
	row["documentbody"] = genBlob(o.h("blob/note", a), size, mime)
	return row
}
