package sampleorg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Omnichannel for Customer Service (Options.Omnichannel): conversations,
// their sessions, transcripts and voice recordings, written from spec
// §13.27-13.30 like the tables of docentities.go. Without the option the org
// has none of these tables, as most orgs do, and every other table is
// unchanged: transcript notes are appended after the other annotations.
//
// SOURCES: column names, types and option values follow the spec sections
// cited per function; the object type codes, navigation-property names and
// the session state/status values are made up, marked where they are.

// omnichannelTables are the tables the option adds, in dependency order.
var omnichannelTables = []string{"msdyn_ocliveworkitem", "msdyn_ocsession", "msdyn_transcript", "msdyn_ocrecording"}

// Channel values of the global choice msdyn_streamsource (§13.27).
const (
	chLiveChat = 192360000
	chVoice    = 192370000
	chSMS      = 192340000
	chFacebook = 192330000
	chWhatsApp = 192300000
	chTeams    = 19241000
	chCoBrowse = 192390000
)

var streamSources = []Option{
	opt(chLiveChat, "Live chat"), opt(chVoice, "Voice"), opt(192440000, "Voice call"), opt(chSMS, "SMS"),
	opt(chFacebook, "Facebook"), opt(chWhatsApp, "WhatsApp"), opt(192310000, "LINE"), opt(192320000, "WeChat"),
	opt(192350001, "Twitter"), opt(192350002, "Custom"), opt(chTeams, "Microsoft Teams"), opt(192380000, "Video"),
	opt(chCoBrowse, "Co-browse"), opt(192400000, "Screen sharing"), opt(192450000, "Apple Messages for Business"),
	opt(192450001, "Google's Business Messages"), opt(192350000, "Entity Records"),
}

// §13.27. msdyn_channel is a multi-select choice on the global
// msdyn_streamsource list; the state/status pairs are the spec's.
func ocliveworkitemEntity() *Entity {
	const t = "msdyn_ocliveworkitem"
	e := ent(t, "msdyn_ocliveworkitems", "activityid", "subject", 10700, "Conversation",
		flagActivity|flagTracked|flagCustom, cols(activityCols(t, "incident"), c(
			"msdyn_cdsqueueid lk:queue", "msdyn_activeagentid lk:systemuser", "msdyn_customer cust",
			"msdyn_lastsessionid lk:msdyn_ocsession", "msdyn_title s200",
			"msdyn_createdon dt", "msdyn_startedon dt", "msdyn_closedon dt",
			"msdyn_isoutbound bool:Yes/No", "msdyn_isabandoned bool:Yes/No",
			"msdyn_conversationfirstwaittimeinseconds int", "msdyn_conversationhandletimeinseconds int",
			"msdyn_conversationholdtimeinseconds int", "msdyn_conversationtalktimeinseconds int",
			"msdyn_conversationwrapuptimeinseconds int", "msdyn_transfercount int", "msdyn_escalationcount int",
			"statecode state:0=Open/1,1=Closed/4,2=Resolved/6,3=Scheduled/7,4=Wrap-up/5",
			"statuscode status:1=Open/0,2=Active/0,3=Waiting/0,5=Wrap-up/0,4=Closed/1,6=Resolved/2,7=Scheduled/3"))...)
	e.Attributes = append(e.Attributes, channelAttr(true))
	return solutionColumns(e)
}

// §13.28. The spec names statecode/statuscode without values: the activity
// default (0 Open, 1 Closed) is used. msdyn_activeagentid (the agent of the
// session) is not in §13.28; it is named as on the conversation.
func ocsessionEntity() *Entity {
	const t = "msdyn_ocsession"
	e := ent(t, "msdyn_ocsessions", "activityid", "subject", 10701, "Session",
		flagActivity|flagTracked|flagCustom, cols(activityCols(t, "msdyn_ocliveworkitem"), c(
			"msdyn_liveworkitemid lk:msdyn_ocliveworkitem", "msdyn_cdsqueueid lk:queue",
			"msdyn_activeagentid lk:systemuser",
			"msdyn_sessioncreatedon dt", "msdyn_sessionclosedon dt", "msdyn_agentassignedon dt", "msdyn_agentacceptedon dt",
			"msdyn_botengagementmode pick:192350000=Default,192350001=PreConversation,192350002=PostConverstation,192350003=OffBusinessHour",
			"msdyn_primarysession bool:Yes/No",
			"statecode state:0=Open/1,1=Closed/2", "statuscode status:1=Open/0,2=Closed/1"))...)
	e.Attributes = append(e.Attributes, channelAttr(false))
	return solutionColumns(e)
}

// §13.29. The messages are not columns: they are an annotation on the
// transcript (transcriptNoteRow).
func transcriptEntity() *Entity {
	return solutionColumns(ent("msdyn_transcript", "msdyn_transcripts", "msdyn_transcriptid", "msdyn_name", 10702, "Transcript",
		flagTracked|flagCustom, cols(c("msdyn_transcriptid pk", "msdyn_name s100 name",
			"msdyn_liveworkitemidid lk:msdyn_ocliveworkitem"), ownedCols)...))
}

// §13.30. msdyn_recording and msdyn_recordingmetadata are File columns: no
// value in a list, bytes from $value (Org.File). msdyn_recordingtarget and
// msdyn_sourcelanguage are left out: the spec gives no type for them.
func ocrecordingEntity() *Entity {
	e := ent("msdyn_ocrecording", "msdyn_ocrecordings", "msdyn_ocrecordingid", "msdyn_name", 10703, "Recording",
		flagTracked|flagCustom, cols(c("msdyn_ocrecordingid pk", "msdyn_name s100 name",
			"msdyn_liveworkitemid lk:msdyn_ocliveworkitem", "msdyn_mediauri s2000"), ownedCols)...)
	for _, a := range e.Attributes { // not indexed yet: Schemas does that
		if a.LogicalName == "msdyn_mediauri" {
			a.Format = "Url"
		}
	}
	e.Attributes = append(e.Attributes, fileAttr("msdyn_recording", "Recording"),
		fileAttr("msdyn_recordingmetadata", "Recording Metadata"))
	return solutionColumns(e)
}

// solutionColumns flags the msdyn_ columns custom: Dataverse reports
// IsCustomAttribute true for columns of any solution, Microsoft's too (§9.4).
func solutionColumns(e *Entity) *Entity {
	for _, a := range e.Attributes {
		if strings.HasPrefix(a.LogicalName, "msdyn_") {
			a.IsCustomAttribute = true
		}
	}
	return e
}

// channelAttr is msdyn_channel: multi-select on conversations, a single
// choice on sessions, both on the global msdyn_streamsource list.
func channelAttr(multi bool) *Attribute {
	typ := "Picklist"
	if multi {
		typ = "Virtual"
	}
	a := docAttr("msdyn_channel", "msdyn_Channel", typ, "Channel",
		withOptions("msdyn_streamsource", "Picklist", streamSources...))
	a.OptionSet.IsGlobal = true
	if multi {
		a.AttributeTypeName, a.MetadataType = "MultiSelectPicklistType", "MultiSelectPicklistAttributeMetadata"
	}
	return a
}

// fileAttr is a File column: AttributeType Virtual, type name FileType, so
// it is no data column of the rows (Attribute.IsColumn).
func fileAttr(name, display string) *Attribute {
	a := docAttr(name, schemaName(name), "Virtual", display)
	a.AttributeTypeName, a.MetadataType = "FileType", "FileAttributeMetadata"
	return a
}

// addOmnichannel sizes the tables; conversations are about a quarter of
// the cases in number, most of them linked to one.
func (o *Org) addOmnichannel() {
	convs := 3 + o.cases/4
	o.counts["msdyn_ocliveworkitem"] = convs
	for t, per := range map[string]func(int) int{
		"msdyn_ocsession": o.sessionsOfConv, "msdyn_transcript": o.transcriptsOfConv,
		"msdyn_ocrecording": o.recordingsOfConv,
	} {
		o.lay[t] = newLayout(convs, per)
		o.counts[t] = o.lay[t].total()
	}
	o.counts["annotation"] += o.counts["msdyn_transcript"]
}

func omnichannelRowGenerators() map[string]func(*Org, int) Row {
	return map[string]func(*Org, int) Row{
		"msdyn_ocliveworkitem": (*Org).conversationRow, "msdyn_ocsession": (*Org).sessionRow,
		"msdyn_transcript": (*Org).transcriptRow, "msdyn_ocrecording": (*Org).recordingRow,
	}
}

// Per-conversation facts that layouts need: pure hashes of the index.

func (o *Org) convChannel(k int) int {
	switch v := o.h("oc/channel", k) % 100; {
	case v < 45:
		return chLiveChat
	case v < 70:
		return chVoice
	case v < 80:
		return chSMS
	case v < 90:
		return chWhatsApp
	case v < 96:
		return chFacebook
	}
	return chTeams
}

// convAbandoned: the customer left before an agent took the conversation.
func (o *Org) convAbandoned(k int) bool { return o.h("oc/abandon", k)%100 < 7 }

// convSilent: abandoned before writing anything, so no transcript exists
// (a transcript needs a customer message, §13.29).
func (o *Org) convSilent(k int) bool { return o.convAbandoned(k) && o.h("oc/silent", k)%2 == 0 }

// sessionsOfConv: one session per agent who handled the conversation;
// transfers add sessions.
func (o *Org) sessionsOfConv(k int) int {
	if o.convAbandoned(k) {
		return 1
	}
	switch v := o.h("oc/nsess", k) % 10; {
	case v < 6:
		return 1
	case v < 9:
		return 2
	}
	return 3
}

func (o *Org) transcriptsOfConv(k int) int {
	if o.convSilent(k) {
		return 0
	}
	return 1
}

// recordingsOfConv: voice conversations an agent answered are recorded.
func (o *Org) recordingsOfConv(k int) int {
	if o.convChannel(k) == chVoice && !o.convAbandoned(k) {
		return 1
	}
	return 0
}

// convFacts is the story of one conversation.
type convFacts struct {
	channel       []int
	c             int // linked case, -1 when none
	title         string
	contact       int // the customer who wrote or called
	customer      Ref // account or contact
	queue         int
	agent         int // systemuser; -1 when no agent took it
	state, status int
	outbound      bool
	created       time.Time
	started       time.Time // zero when no agent took it
	closed        time.Time // zero while open
	wait, talk    int       // seconds
	handle, hold  int
	wrap          int
}

func (o *Org) convFacts(k int) convFacts {
	r := newRnd(o.seed, "msdyn_ocliveworkitem", k)
	f := convFacts{c: -1, agent: -1, channel: []int{o.convChannel(k)}, queue: r.intn(o.Count("queue"))}
	if f.channel[0] == chLiveChat && r.chance(6) {
		f.channel = append(f.channel, chCoBrowse)
	}
	open := false
	if o.h("oc/case", k)%100 < 70 {
		f.c = int(o.h("oc/caseidx", k) % uint64(o.cases))
		cf := o.caseFacts(f.c)
		f.title, f.contact, f.agent = cf.title, cf.requester, cf.owner
		f.customer = o.ref("contact", cf.customer)
		if cf.accountCustomer {
			f.customer = o.ref("account", cf.customer)
		}
		if cf.queue >= 0 {
			f.queue = cf.queue
		}
		f.created = cf.created.Add(-time.Duration(2+r.intn(30)) * time.Minute) // the case was opened from the chat
		open = cf.state == 0 && r.chance(20)
	} else {
		f.contact = r.intn(o.Count("contact"))
		f.customer = o.ref("contact", f.contact)
		f.title = pick(r, []string{"Question about my order", "Password reset", "Where is my refund?",
			"Rechnung falsch", "Just checking in 🙂", "Cannot log in"})
		f.agent = o.agent(r)
		f.created = anchor.AddDate(-3, 0, 0).Add(time.Duration(r.intn(3*365*24*3600-86400)) * time.Second)
		open = r.chance(10)
	}
	f.outbound = f.channel[0] == chVoice && r.chance(10)
	o.convOutcome(k, &f, open, r)
	return f
}

// convOutcome sets the state and the times; open conversations are recent.
func (o *Org) convOutcome(k int, f *convFacts, open bool, r *rnd) {
	f.wait = 5 + r.intn(300)
	f.handle, f.wrap = 120+r.intn(2400), 10+r.intn(300)
	if f.channel[0] == chVoice {
		f.hold = r.intn(120)
		f.talk = f.handle - f.hold
	}
	f.state, f.status = 1, 4
	switch {
	case o.convAbandoned(k):
		f.agent, f.handle, f.wrap, f.hold, f.talk = -1, 0, 0, 0, 0
		f.closed = f.created.Add(time.Duration(f.wait) * time.Second)
		return
	case open:
		f.created = anchor.Add(-time.Duration(600+r.intn(48*3600)) * time.Second)
		f.state = 0
		f.status = pick(r, []int{1, 2, 2, 2, 3, 5})
		if f.status == 1 { // still in the queue
			f.agent, f.handle, f.wrap, f.hold, f.talk = -1, 0, 0, 0, 0
			return
		}
	case r.chance(5):
		f.state, f.status = 2, 6
	}
	f.started = f.created.Add(time.Duration(f.wait) * time.Second)
	if f.state != 0 {
		f.closed = f.started.Add(time.Duration(f.handle+f.wrap) * time.Second)
	}
}

// end is when the conversation closed, or the org's now while it is open.
func (f convFacts) end() time.Time {
	if f.closed.IsZero() {
		return anchor.Add(-time.Minute)
	}
	return f.closed
}

func (o *Org) convSubject(f convFacts) string {
	if f.channel[0] == chVoice {
		return "Call: " + f.title
	}
	return "Chat: " + f.title
}

func (o *Org) convRef(k int, f convFacts) Ref {
	return Ref{LogicalName: "msdyn_ocliveworkitem", ID: o.ID("msdyn_ocliveworkitem", k), Name: o.convSubject(f)}
}

// agentRef is the agent, or the application user for work no agent took.
func (o *Org) agentRef(agent int) Ref {
	return o.ref("systemuser", max(agent, 0))
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func optRef(ok bool, r Ref) any {
	if !ok {
		return nil
	}
	return r
}

func (o *Org) conversationRow(k int) Row {
	f := o.convFacts(k)
	sessions := o.sessionsOfConv(k)
	last := o.lay["msdyn_ocsession"].first(k) + sessions - 1
	owner, system := o.agentRef(f.agent), o.ref("systemuser", 0)
	row := Row{
		"subject": o.convSubject(f), "msdyn_title": f.title, "description": nil,
		"activitytypecode": "msdyn_ocliveworkitem", "prioritycode": 1,
		"regardingobjectid": nil,
		"actualstart":       timeOrNil(f.started), "actualend": timeOrNil(f.closed), "actualdurationminutes": nil,
		"scheduledstart": nil, "scheduledend": nil,
		"msdyn_channel": f.channel, "msdyn_cdsqueueid": o.ref("queue", f.queue),
		"msdyn_activeagentid": optRef(f.agent >= 0, owner), "msdyn_customer": f.customer,
		"msdyn_lastsessionid": Ref{LogicalName: "msdyn_ocsession", ID: o.ID("msdyn_ocsession", last), Name: o.sessionSubject(f, sessions-1)},
		"msdyn_createdon":     f.created, "msdyn_startedon": timeOrNil(f.started), "msdyn_closedon": timeOrNil(f.closed),
		"msdyn_isoutbound": f.outbound, "msdyn_isabandoned": o.convAbandoned(k),
		"msdyn_conversationfirstwaittimeinseconds": f.wait,
		"msdyn_conversationhandletimeinseconds":    nilIfZero(f.handle),
		"msdyn_conversationholdtimeinseconds":      nilIfZero(f.hold),
		"msdyn_conversationtalktimeinseconds":      nilIfZero(f.talk),
		"msdyn_conversationwrapuptimeinseconds":    nilIfZero(f.wrap),
		"msdyn_transfercount":                      sessions - 1, "msdyn_escalationcount": int(o.h("oc/esc", k)%20) / 19,
		"statecode": f.state, "statuscode": f.status,
		"ownerid": owner, "owninguser": owner, "createdby": system, "modifiedby": owner,
		"createdon": f.created, "modifiedon": f.end(),
	}
	if f.c >= 0 { // the case's primary name is its title, the conversation's too
		row["regardingobjectid"] = Ref{LogicalName: "incident", ID: o.ID("incident", f.c), Name: f.title}
	}
	if !f.started.IsZero() && !f.closed.IsZero() {
		row["actualdurationminutes"] = int(f.closed.Sub(f.started).Minutes())
	}
	return row
}

func nilIfZero(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func (o *Org) sessionSubject(f convFacts, j int) string {
	return fmt.Sprintf("Session %d: %s", j+1, f.title)
}

// sessionRow: the conversation's time is split between its sessions; the
// last one belongs to the conversation's agent, earlier ones to the agents
// who transferred it.
func (o *Org) sessionRow(i int) Row {
	k, j := o.lay["msdyn_ocsession"].locate(i)
	f := o.convFacts(k)
	n := o.sessionsOfConv(k)
	r := newRnd(o.seed, "msdyn_ocsession", i)
	agent := f.agent
	if j < n-1 && agent >= 0 {
		agent = o.agent(r)
	}
	part := f.end().Sub(f.created) / time.Duration(n)
	created := f.created.Add(part * time.Duration(j)).Truncate(time.Second)
	var closed time.Time
	if !f.closed.IsZero() || j < n-1 {
		closed = f.created.Add(part * time.Duration(j+1)).Truncate(time.Second)
	}
	owner := o.agentRef(agent)
	row := Row{
		"subject": o.sessionSubject(f, j), "description": nil, "activitytypecode": "msdyn_ocsession",
		"regardingobjectid": nil, "prioritycode": 1, "scheduledstart": nil, "scheduledend": nil,
		"actualstart": created, "actualend": timeOrNil(closed), "actualdurationminutes": nil,
		"msdyn_liveworkitemid": o.convRef(k, f), "msdyn_cdsqueueid": o.ref("queue", f.queue),
		"msdyn_activeagentid": optRef(agent >= 0, owner), "msdyn_channel": f.channel[0],
		"msdyn_sessioncreatedon": created, "msdyn_sessionclosedon": timeOrNil(closed),
		"msdyn_agentassignedon": nil, "msdyn_agentacceptedon": nil,
		"msdyn_botengagementmode": 192350000, "msdyn_primarysession": j == 0,
		"statecode": 0, "statuscode": 1,
		"ownerid": owner, "owninguser": owner, "createdby": o.ref("systemuser", 0), "modifiedby": owner,
		"createdon": created, "modifiedon": f.end(),
	}
	if !closed.IsZero() {
		row["statecode"], row["statuscode"] = 1, 2
		row["actualdurationminutes"] = int(closed.Sub(created).Minutes())
	}
	if agent >= 0 {
		assigned := created.Add(time.Duration(2+r.intn(20)) * time.Second)
		row["msdyn_agentassignedon"] = assigned
		row["msdyn_agentacceptedon"] = assigned.Add(time.Duration(3+r.intn(20)) * time.Second)
	}
	return row
}

func (o *Org) transcriptName(k int) string {
	return fmt.Sprintf("Transcript %06d", k)
}

func (o *Org) transcriptRow(t int) Row {
	k, _ := o.lay["msdyn_transcript"].locate(t)
	f := o.convFacts(k)
	owner := o.agentRef(f.agent)
	return Row{
		"msdyn_name": o.transcriptName(k), "msdyn_liveworkitemidid": o.convRef(k, f),
		"ownerid": owner, "owninguser": owner, "createdby": o.ref("systemuser", 0), "modifiedby": owner,
		"createdon": f.end(), "modifiedon": f.end(),
	}
}

func (o *Org) recordingRow(i int) Row {
	k, _ := o.lay["msdyn_ocrecording"].locate(i)
	f := o.convFacts(k)
	owner := o.agentRef(f.agent)
	return Row{
		"msdyn_name": "Recording of " + o.convSubject(f), "msdyn_liveworkitemid": o.convRef(k, f),
		"msdyn_mediauri": fmt.Sprintf("https://media.example.com/oc/recordings/%s.mp3", o.ID("msdyn_ocliveworkitem", k)),
		"ownerid":        owner, "owninguser": owner, "createdby": o.ref("systemuser", 0), "modifiedby": owner,
		"createdon": f.end(), "modifiedon": f.end(),
	}
}

// File is the content of a File column (spec §12): raw bytes with a name
// and a MIME type, served by $value.
type File struct {
	Blob
	Name, MimeType string
}

// recordingBytesPerSecond: an 8 kbit/s speech codec keeps a half-hour call
// under 2 MB, so end-to-end tests download recordings quickly.
const recordingBytesPerSecond = 1000

// File returns the content of a File column of row i; false when the table
// has no such column or the row no file.
func (o *Org) File(table, column string, i int) (File, bool) {
	if table != "msdyn_ocrecording" || i < 0 || i >= o.Count(table) {
		return File{}, false
	}
	k, _ := o.lay["msdyn_ocrecording"].locate(i)
	f := o.convFacts(k)
	conv := o.ID("msdyn_ocliveworkitem", k)
	switch column {
	case "msdyn_recording":
		size := int64(f.talk*recordingBytesPerSecond + 417) // + the container header
		return File{Blob: genBlob(o.h("blob/ocrec", i), size, "audio/mpeg"),
			Name: "recording-" + conv + ".mp3", MimeType: "audio/mpeg"}, true
	case "msdyn_recordingmetadata":
		meta, _ := json.Marshal(map[string]any{"conversationId": conv, "durationSeconds": f.talk,
			"holdSeconds": f.hold, "codec": "mp3", "channels": 2, "sampleRateHz": 8000,
			"startedOn": f.started.Format(time.RFC3339)})
		return File{Blob: LiteralBlob(meta), Name: "recording-metadata.json", MimeType: "application/json"}, true
	}
	return File{}, false
}

// noteRow generates annotation a: transcript notes follow the notes on
// cases and contacts.
func (o *Org) noteRow(a int) Row {
	if k := a - o.caseNotes() - o.contactNotes(); o.omnichannel && k >= 0 {
		return o.transcriptNoteRow(a, k)
	}
	return o.annotationRow(a)
}

// transcriptNoteRow is the annotation holding transcript t's messages: a
// JSON document of message objects, Base64 in documentbody (§13.29).
func (o *Org) transcriptNoteRow(a, t int) Row {
	k, _ := o.lay["msdyn_transcript"].locate(t)
	f := o.convFacts(k)
	body := o.transcriptJSON(k, f)
	owner := o.agentRef(f.agent)
	tr := Ref{LogicalName: "msdyn_transcript", ID: o.ID("msdyn_transcript", t), Name: o.transcriptName(k)}
	return Row{
		"annotationid": o.ID("annotation", a), "objectid": tr, "objecttypecode": "msdyn_transcript",
		"subject": "Conversation transcript", "notetext": nil, "isdocument": true,
		"filename": "transcript.json", "mimetype": "application/json",
		"documentbody": LiteralBlob(body), "filesize": len(body),
		"ownerid": owner, "owninguser": owner, "createdby": o.ref("systemuser", 0), "modifiedby": owner,
		"createdon": f.end(), "modifiedon": f.end(), "langid": "en", "versionnumber": o.version("annotation", a),
	}
}

// transcriptMessage is one message object of a transcript (§13.29).
type transcriptMessage struct {
	ID               string         `json:"id"`
	Content          string         `json:"content"`
	ContentType      string         `json:"contentType"`
	CreatedDateTime  string         `json:"createdDateTime"`
	Created          string         `json:"created"`
	From             map[string]any `json:"from"`
	IsControlMessage bool           `json:"isControlMessage"`
	Tags             string         `json:"tags"`
	DeliveryMode     string         `json:"deliveryMode"`
	Attachments      []any          `json:"attachments"`
	Likes            []any          `json:"likes"`
	Modified         string         `json:"modified"`
	Deleted          bool           `json:"deleted"`
}

func (o *Org) transcriptJSON(k int, f convFacts) []byte {
	r := newRnd(o.seed, "oc/transcript", k)
	customer := map[string]any{"user": map[string]any{"displayName": o.primaryName("contact", f.contact),
		"id": o.ID("contact", f.contact)}}
	var agent map[string]any
	if f.agent >= 0 {
		agent = map[string]any{"user": map[string]any{"displayName": o.user(f.agent).full,
			"id": o.ID("systemuser", f.agent)}}
	}
	var msgs []transcriptMessage
	at := f.created
	add := func(from map[string]any, contentType, content, tags string) {
		at = at.Add(time.Duration(5+r.intn(90)) * time.Second)
		ts := at.Format("2006-01-02T15:04:05.000Z")
		msgs = append(msgs, transcriptMessage{ID: fmt.Sprint(at.UnixMilli()), Content: content,
			ContentType: contentType, CreatedDateTime: ts, Created: ts, From: from, IsControlMessage: from == nil,
			Tags: tags, DeliveryMode: "bridged", Attachments: []any{}, Likes: []any{}, Modified: ts})
	}
	add(customer, "text", "Hi, "+f.title, fmt.Sprintf("public,client_activity_id:%06d", r.intn(1e6)))
	if agent == nil {
		return mustJSON(msgs)
	}
	add(nil, "text", o.user(f.agent).full+" joined the conversation", "system")
	for n := 1 + r.intn(3); n > 0; n-- {
		add(agent, "html", pick(r, agentLines), "public")
		add(customer, "text", pick(r, customerLines), "public")
	}
	if r.chance(30) {
		add(agent, "text", "Internal: checked the account, no open incidents.", "private")
	}
	add(nil, "text", "The conversation was ended", "system")
	return mustJSON(msgs)
}

var agentLines = []string{"<p>Thanks for reaching out — let me look into that.</p>",
	"<p>Could you send me the order number?</p>", "<p>I have reset it, please try again.</p>",
	"<p>Danke für Ihre Geduld!</p>"}

var customerLines = []string{"Sure, it's 10023.", "That worked, thanks!", "Still not working :(",
	"Merci beaucoup 🙏", "ok"}

// mustJSON writes HTML content as it is, not as \u003c escapes.
func mustJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("sampleorg: transcript JSON: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
