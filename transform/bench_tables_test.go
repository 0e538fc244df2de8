package transform_test

import (
	"fmt"
	"strings"
)

// The generated org is deterministic: every value is a function of the row
// number through DuckDB's hash(), so a foreign key (the case of an email, the
// contact of a case) is recomputed from the same number wherever it is needed,
// and a rerun of the generator writes the same rows.

// emailFragments are pieces of the HTML that Outlook, Dynamics templates and
// old web mailers produce: Word-style spans, font tags, layout tables with
// inline styles, entities, Outlook conditional comments, inline cid: images,
// quoted reply headers, emoji and non-Latin text, and the odd hostile link.
// {n} is replaced by the email's number.
var emailFragments = []string{
	`<p class=MsoNormal><span style='font-size:11.0pt;font-family:"Calibri",sans-serif;color:#1F497D'>Hello team,<o:p></o:p></span></p>`,
	`<p class=MsoNormal><span style='font-size:11.0pt;font-family:"Calibri",sans-serif'>Thank you for getting back to us so quickly. We tried the steps you suggested on the three affected workstations, but the error still appears when the nightly export runs. I have attached the log files from last night and a screenshot of the dialog.<o:p></o:p></span></p>`,
	`<font face="Arial" size="2" color="#333333">Your request {n} has been received and assigned to our support team. A specialist will contact you within one business day. Please do not reply above this line.</font><br><br>`,
	`<table border=0 cellspacing=0 cellpadding=0 width="100%" style='width:100.0%;border-collapse:collapse'><tr><td width=120 style='width:90.0pt;padding:3.75pt 3.75pt 3.75pt 3.75pt;background:#F2F2F2'><p class=MsoNormal><b><span style='font-size:9.0pt'>Order<o:p></o:p></span></b></p></td><td style='padding:3.75pt'><p class=MsoNormal><span style='font-size:9.0pt'>SO-{n}<o:p></o:p></span></p></td></tr><tr><td style='padding:3.75pt;background:#F2F2F2'><b>Status</b></td><td style='padding:3.75pt'>Back-ordered &ndash; ships in 5&nbsp;days</td></tr></table>`,
	`<p>Price: 1&nbsp;299,00&nbsp;&euro; &amp; VAT &lt;incl.&gt; &mdash; see our &quot;Terms &amp; Conditions&quot; &copy; 2021 Contoso&reg; Ltd. &#8220;Premium&#8221; plan &hellip;</p>`,
	`<p>Thanks so much for your help!! 😀👍🎉 Have a great weekend ☀️🌴</p>`,
	`<p dir=rtl style='text-align:right'>شكراً لتواصلكم معنا. سيقوم أحد ممثلي خدمة العملاء بالرد عليكم في أقرب وقت ممكن.</p>`,
	`<p><span lang=JA style='font-family:"MS Gothic"'>お問い合わせいただきありがとうございます。担当者より二営業日以内にご連絡いたします。引き続きよろしくお願いいたします。</span></p>`,
	`<div><span style="font-family:Verdana;font-size:10pt">Здравствуйте! Спасибо за обращение в службу поддержки. Ваш запрос передан специалисту.</span></div>`,
	`<p>您好，感谢您的来信。我们已收到您的请求，技术人员将尽快与您联系。</p><p>Γεια σας, ευχαριστούμε για το μήνυμά σας. Grüße aus München – Müller &amp; Söhne GmbH</p>`,
	`<!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]--><!--[if gte mso 9]><xml><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1" /></o:shapelayout></xml><![endif]-->`,
	`<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal><b><span lang=EN-US>From:</span></b><span lang=EN-US> Jane Doe &lt;jane.doe@customer.example&gt;<br><b>Sent:</b> Monday, March 2, 2020 10:15 AM<br><b>To:</b> Contoso Support &lt;support@contoso.example&gt;<br><b>Subject:</b> RE: Export fails every night [CAS-{n}]<o:p></o:p></span></p></div>`,
	`<blockquote style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex"><div dir="ltr">On Tue, Mar 3, 2020 at 9:02 AM Support wrote:<br>Could you please send us the version number shown under Help &gt; About, and tell us whether the problem started after the last update?<br></div></blockquote>`,
	`<p class=MsoNormal><span style='color:#1F497D'>Kind regards,<br>Tomás Ó Briain<br>Senior Support Engineer | Contoso EMEA<br>T: +353 1 555 0100 | <a href="https://www.contoso.example/support?utm_source=email&amp;utm_medium=signature">www.contoso.example</a></span></p><p><img width=120 height=40 id="Picture_x0020_1" src="cid:image001.png@01D5F0A1.2B3C4D50" alt="Contoso logo"></p>`,
	`<ul style='margin-top:0cm' type=disc><li class=MsoListParagraph style='margin-left:0cm'>Open the <b>Settings</b> page and select <i>Data export</i>.</li><li class=MsoListParagraph>Clear the cache &amp; restart the service.</li><li class=MsoListParagraph>Run the export again and note the time.</li></ul>`,
	`<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur.</p>`,
	`<div class=WordSection1><p class=MsoNormal style='mso-margin-top-alt:auto;mso-margin-bottom-alt:auto'><span style='font-size:10.0pt;font-family:"Segoe UI",sans-serif;color:black'>CONFIDENTIALITY NOTICE: This e-mail and any attachments are intended only for the addressee and may contain privileged information. If you received it in error, please delete it and notify the sender.<o:p></o:p></span></p></div>`,
	`<center><table width=600 bgcolor="#ffffff" style="font-family:Helvetica,Arial;font-size:14px;line-height:20px"><tr><td align=center valign=top><h2 style="color:#0078d4;margin:0">Your case was updated</h2><p>Case <a href="https://contoso.crm.dynamics.com/main.aspx?etn=incident&amp;id={n}">CAS-{n}</a> changed status to <b>Waiting for Details</b>.</p></td></tr></table></center>`,
	`<p><a href="javascript:alert(document.cookie)" onclick="steal()">Click here to verify your account</a> <span onmouseover="x()">now</span></p><script type="text/javascript">window.location='https://evil.example/'</script>`,
	`<p>Best&nbsp;regards,<br>Zoë Ünïcode&#x1F600; &middot; Support Désk &middot; São Paulo<br></p><hr size=2 width="100%" align=center>`,
	`<pre style="font-family:Consolas">2020-03-02 02:00:13 ERROR Export job 4711 failed: timeout after 3600s
    at Contoso.Export.Run() in Export.cs:line 212
    at Contoso.Scheduler.Tick()</pre>`,
	`<p style="margin:0;padding:0"><img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" width=1 height=1 alt=""><img src="https://tracking.contoso.example/open/{n}.gif" width=1 height=1 alt=""></p>`,
}

// emailHead is the Word/Outlook preamble most HTML email bodies start with.
const emailHead = `<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" ` +
	`xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" ` +
	`xmlns="http://www.w3.org/TR/REC-html40"><head><meta http-equiv=Content-Type content="text/html; charset=utf-8">` +
	`<meta name=Generator content="Microsoft Word 15 (filtered medium)"><style><!-- /* Font Definitions */ ` +
	`@font-face {font-family:"Cambria Math"; panose-1:2 4 5 3 5 4 6 3 2 4;} @font-face {font-family:Calibri; ` +
	`panose-1:2 15 5 2 2 2 4 3 2 4;} p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt; ` +
	`font-family:"Calibri",sans-serif;} a:link, span.MsoHyperlink {mso-style-priority:99; color:#0563C1; ` +
	`text-decoration:underline;} .MsoChpDefault {mso-style-type:export-only;} @page WordSection1 {size:612.0pt ` +
	`792.0pt; margin:72.0pt 72.0pt 72.0pt 72.0pt;} --></style></head><body lang=EN-US link="#0563C1" ` +
	`vlink="#954F72" style='word-wrap:break-word'><div class=WordSection1>`

const emailTail = `</div></body></html>`

// sentences feed plain-text case descriptions and activity notes.
var sentences = []string{
	"The customer reports that the nightly export fails with a timeout.",
	"Printer in building 4 shows error 0x80070005 after the latest driver update.",
	"Invoice INV-2020-0042 was charged twice; please refund the duplicate payment.",
	"User cannot sign in since the password reset <two factor> prompt loops.",
	"Le client signale que la synchronisation échoue depuis lundi.",
	"Der Kunde möchte die Lieferadresse ändern: Königstraße 12, 70173 Stuttgart.",
	"お客様より、請求書の再発行依頼がありました。",
	"Клиент просит перезвонить после 15:00 по московскому времени.",
	"客户反映系统在高峰时段响应缓慢。",
	"Requested a call back about the renewal & pricing for 2021 🙏",
	"Steps to reproduce: open the report, filter by region, export to Excel.",
	"Workaround applied; waiting for the customer to confirm.",
}

var caseTitles = []string{"Export fails every night", "Printer offline", "Invoice charged twice",
	"Cannot sign in", "Synchronisation échoue", "Lieferadresse ändern", "請求書の再発行", "Медленная работа",
	"系统响应缓慢", "Renewal question", "Report export broken", "Feature request: dark mode 🌙"}

var firstNames = []string{"Jane", "John", "Zoë", "José", "Ana", "Mohammed", "Yuki", "Анна", "王", "Søren",
	"Chloé", "Priya", "Oluwaseun", "Mateo", "Aoife", "Lukas"}

var lastNames = []string{"Doe", "Smith", "Müller", "García", "Nguyen", "Ó Briain", "田中", "Иванова", "小明",
	"Kowalski", "Dubois", "Patel", "Okafor", "Rossi", "Jensen", "Silva"}

// benchMacros defines the row functions every table query uses.
func benchMacros(o benchOrg) string {
	return benchReplacer(o).Replace(benchMacroSQL)
}

// benchReplacer fills the {placeholders} of the macros and table queries.
func benchReplacer(o benchOrg) *strings.Replacer {
	withContacts := max(1, o.accounts*99/100) // the last 1 % of accounts have no contact at all
	avgFrag := 0
	for _, f := range emailFragments {
		avgFrag += len(f)
	}
	avgFrag /= len(emailFragments)
	return strings.NewReplacer(
		"{cases}", fmt.Sprint(max(1, o.cases)), "{contacts}", fmt.Sprint(max(1, o.contacts)),
		"{accounts}", fmt.Sprint(max(1, o.accounts)), "{users}", fmt.Sprint(o.users),
		"{queues}", fmt.Sprint(o.queues), "{with_contacts}", fmt.Sprint(withContacts),
		"{avg_frag}", fmt.Sprint(avgFrag),
		"{frags}", sqlList(emailFragments), "{nfrags}", fmt.Sprint(len(emailFragments)),
		"{head}", sqlList([]string{emailHead}), "{tail}", sqlList([]string{emailTail}),
		"{sentences}", sqlList(sentences), "{nsentences}", fmt.Sprint(len(sentences)),
		"{titles}", sqlList(caseTitles), "{ntitles}", fmt.Sprint(len(caseTitles)),
		"{firsts}", sqlList(firstNames), "{nfirsts}", fmt.Sprint(len(firstNames)),
		"{lasts}", sqlList(lastNames), "{nlasts}", fmt.Sprint(len(lastNames)),
	)
}

const benchMacroSQL = `
set timezone = 'UTC';
create macro u(i, s) as (hash(i, s) % 1000003) / 1000003.0;
create macro pick(i, s, n) as cast(hash(i, s) % n as bigint);
create macro gid(t, i) as regexp_replace(md5(t || ':' || i), '^(.{8})(.{4})(.{4})(.{4})(.{12})$', '\1-\2-\3-\4-\5');
create macro at_s(s) as timestamptz '2018-01-01 00:00:00+00' + to_seconds(cast(s as bigint));

-- a text of n sentences starting at seed s.
create macro sentences_text(s, n) as array_to_string(
    list_transform(range(cast(s as bigint), cast(s + n as bigint)), lambda j: {sentences}[cast(1 + hash(j) % {nsentences} as bigint)]), chr(10));
-- an HTML email body of 2-20 KB, most of them small (size ~ u^2.5).
create macro email_html(i) as replace(
    {head}[1] || array_to_string(list_transform(
        range(cast(hash(i, 'b') % 1000000000 as bigint), cast(hash(i, 'b') % 1000000000 as bigint)
            + cast(round((2048 + 18432 * pow(u(i, 'sz'), 2.5)) / {avg_frag}) as bigint)),
        lambda j: {frags}[cast(1 + hash(j) % {nfrags} as bigint)]), chr(10)) || {tail}[1],
    '{n}', cast(i as varchar));

-- cases
create macro case_secs(c) as c * 252000000 // {cases} + pick(c, 'cj', 3600);
create macro case_on_account(c) as u(c, 'ck') >= 0.85;
create macro case_contact(c) as pick(c, 'cc', {contacts});
create macro case_account(c) as pick(c, 'ca', {accounts});
create macro case_title(c) as {titles}[1 + pick(c, 'ct', {ntitles})];
create macro ticket(c) as 'CAS-' || lpad(cast(c as varchar), 6, '0') || '-' || upper(substr(md5('t' || c), 1, 6));

-- contacts; 5 % reuse an earlier contact's address (case and spaces changed).
create macro contact_account(j) as case when u(j, 'ja') < 0.8 then j % {with_contacts} end;
create macro contact_name(j) as {firsts}[1 + pick(j, 'fn', {nfirsts})] || ' ' || {lasts}[1 + pick(j, 'ln', {nlasts})];
create macro contact_mail(j) as 'contact' || j || '@' || case when contact_account(j) is not null
    then 'acct' || contact_account(j) || '.example.com' else 'mail' || pick(j, 'md', 7) || '.example.org' end;
create macro dup_of(j) as case when j > 0 and u(j, 'dp') < 0.05 then greatest(0, j - 1 - pick(j, 'dd', 1000)) end;
create macro contact_addr(j) as case
    when dup_of(j) is null then contact_mail(j)
    when pick(j, 'dc', 3) = 0 then upper(contact_mail(dup_of(j)))
    when pick(j, 'dc', 3) = 1 then ' ' || contact_mail(dup_of(j)) || ' '
    else contact_mail(dup_of(j)) end;

-- users 0-4 are application users, 5-9 have no mailbox.
create macro agent_mail(s) as case when s >= 10 then 'agent' || s || '@contoso.example' end;

-- emails
create macro email_case(i) as pick(i, 'ec', {cases});
create macro email_out(i) as u(i, 'ed') < 0.5;
create macro email_secs(i) as case_secs(email_case(i)) + pick(i, 'et', 2592000);
`

// lookupCols selects the three columns of a lookup from an id, a target
// table and a display name.
func lookupCols(name, id, target, formatted string) string {
	v := "_" + name + "_value"
	return fmt.Sprintf("%s as %s, %s as %s__lookuplogicalname, %s as %s__formatted", id, v, target, v, formatted, v)
}

// optionCols selects an option set's value and label; labels is a DuckDB
// list literal indexed by value (1-based: labels[value + 1]).
func optionCols(name, value, labels string) string {
	return fmt.Sprintf("%s as %s, %s[%s + 1] as %s__label", value, name, labels, value, name)
}

func benchTables(o benchOrg) []benchTable {
	return []benchTable{
		{name: "systemuser", rows: o.users, query: `
			gid('systemuser', i) as systemuserid, 'Agent ' || i as fullname, 'Agent' as firstname, cast(i as varchar) as lastname,
			agent_mail(i) as internalemailaddress,
			case when i < 5 then gid('application', i) end as applicationid,
			` + optionCols("accessmode", "case when i < 5 then 4 else 0 end",
			"['Read-Write', 'Administrative', 'Read', 'Support User', 'Non-interactive']") + `,
			u(i, 'dis') < 0.05 as isdisabled,
			at_s(i * 3600) as createdon, at_s(i * 3600 + 86400) as modifiedon`},
		{name: "queue", rows: o.queues, query: `
			gid('queue', i) as queueid,
			case when i < 5 then '<Agent ' || (10 + i) || '>' else 'Support queue ' || i end as name,
			'queue' || i || '@contoso.example' as emailaddress,
			` + optionCols("queueviewtype", "case when i < 5 then 1 else 0 end", "['Public', 'Private']") + `,
			` + optionCols("statecode", "0", "['Active', 'Inactive']") + `,
			at_s(i * 3600) as createdon, at_s(i * 3600) as modifiedon`},
		{name: "account", rows: o.accounts, query: `
			gid('account', i) as accountid,
			case when u(i, 'an') >= 0.005 then 'Account ' || i || ' ' || ['Ltd', 'GmbH', 'S.A.', '株式会社', 'LLC', 'ООО'][1 + pick(i, 'as', 6)] end as name,
			case when u(i, 'aw') < 0.7 then 'www.acct' || i || '.example.com' end as websiteurl,
			pick(i, 'ai', 30) + 1 as industrycode, 'Industry ' || (pick(i, 'ai', 30) + 1) as industrycode__label,
			` + lookupCols("primarycontactid", "case when u(i, 'ap') < 0.7 and i < {contacts} then gid('contact', i) end",
			"case when u(i, 'ap') < 0.7 and i < {contacts} then 'contact' end", "case when u(i, 'ap') < 0.7 and i < {contacts} then contact_name(i) end") + `,
			at_s(i * 2000) as createdon, at_s(i * 2000 + 86400) as modifiedon`},
		{name: "contact", rows: o.contacts, query: `
			gid('contact', i) as contactid, contact_name(i) as fullname,
			{firsts}[1 + pick(i, 'fn', {nfirsts})] as firstname, {lasts}[1 + pick(i, 'ln', {nlasts})] as lastname,
			case when u(i, 'ek') < 0.03 then null when u(i, 'ek') < 0.04 then 'contact' || i || ' at example.com'
				when u(i, 'ek') < 0.06 then null else contact_addr(i) end as emailaddress1,
			case when u(i, 'ek') >= 0.04 and u(i, 'ek') < 0.06 then contact_addr(i) end as emailaddress2,
			case when u(i, 'e3') < 0.1 then 'private' || i || '@mail.example.net' end as emailaddress3,
			'+1 555 ' || lpad(cast(i % 10000000 as varchar), 7, '0') as telephone1,
			case when u(i, 'mp') < 0.4 then '+44 7700 ' || lpad(cast(i % 1000000 as varchar), 6, '0') end as mobilephone,
			null::varchar as telephone2,
			` + lookupCols("parentcustomerid", "gid('account', contact_account(i))",
			"case when contact_account(i) is not null then 'account' end", "'Account ' || contact_account(i)") + `,
			` + optionCols("statecode", "case when u(i, 'cs') < 0.1 then 1 else 0 end", "['Active', 'Inactive']") + `,
			at_s(i * 2500) as createdon, at_s(i * 2500 + 86400) as modifiedon`},
		{name: "incident", rows: o.cases, query: `
			gid('incident', i) as incidentid, case_title(i) as title, ticket(i) as ticketnumber,
			case when u(i, 'dh') < 0.03 then null
				when u(i, 'dh') < 0.28 then '<div><font face="Calibri" size="2">' || replace(sentences_text(hash(i, 'ds') % 1000000, 2 + pick(i, 'dn', 18)), chr(10), '<br>') || '</font></div>'
				else sentences_text(hash(i, 'ds') % 1000000, 2 + pick(i, 'dn', 18)) end as description,
			` + optionCols("prioritycode", "1 + pick(i, 'pr', 3)", "['', 'High', 'Normal', 'Low']") + `,
			` + optionCols("statecode", "case when u(i, 'st') < 0.35 then 0 when u(i, 'st') < 0.95 then 1 else 2 end",
			"['Active', 'Resolved', 'Cancelled']") + `,
			` + optionCols("statuscode", "case when u(i, 'st') < 0.35 then 1 + pick(i, 'ss', 3) when u(i, 'st') < 0.95 then 5 else 6 end",
			"['', 'In Progress', 'On Hold', 'Waiting for Details', 'Researching', 'Problem Solved', 'Cancelled']") + `,
			` + lookupCols("customerid", "case when case_on_account(i) then gid('account', case_account(i)) else gid('contact', case_contact(i)) end",
			"case when case_on_account(i) then 'account' else 'contact' end",
			"case when case_on_account(i) then 'Account ' || case_account(i) else contact_name(case_contact(i)) end") + `,
			` + lookupCols("primarycontactid", "case when case_on_account(i) and u(i, 'pc') < 0.1 then gid('contact', pick(i, 'pk', {contacts})) end",
			"case when case_on_account(i) and u(i, 'pc') < 0.1 then 'contact' end", "null") + `,
			` + lookupCols("ownerid", "case when u(i, 'ow') < 0.9 then gid('systemuser', pick(i, 'ou', {users})) else gid('team', pick(i, 'ot', 10)) end",
			"case when u(i, 'ow') < 0.9 then 'systemuser' else 'team' end", "'Owner'") + `,
			at_s(case_secs(i)) as createdon, at_s(case_secs(i) + pick(i, 'cm', 2592000)) as modifiedon,
			case when u(i, 'st') < 0.35 and pick(i, 'ss', 3) = 1 and u(i, 'fu') < 0.5 then at_s(case_secs(i) + 3000000) end as followupby`},
		{name: "email", rows: o.emails, query: `
			gid('email', i) as activityid, 'RE: ' || case_title(email_case(i)) || ' [' || ticket(email_case(i)) || ']' as subject,
			case when u(i, 'eh') < 0.95 then email_html(i) else sentences_text(hash(i, 'es') % 1000000, 3 + pick(i, 'en', 10)) end as description,
			email_out(i) as directioncode,
			` + optionCols("statecode", "case when u(i, 'sc') < 0.02 then 0 when u(i, 'sc') < 0.03 then 2 else 1 end",
			"['Open', 'Completed', 'Canceled']") + `,
			` + lookupCols("regardingobjectid",
			"case when u(i, 'er') < 0.95 then gid('incident', email_case(i)) when u(i, 'er') < 0.98 then gid('account', pick(i, 'ea', {accounts})) end",
			"case when u(i, 'er') < 0.95 then 'incident' when u(i, 'er') < 0.98 then 'account' end",
			"case when u(i, 'er') < 0.95 then case_title(email_case(i)) end") + `,
			case when u(i, 'sc') >= 0.03 then at_s(email_secs(i) + 5) end as actualend,
			case when u(i, 'sc') >= 0.03 and email_out(i) then at_s(email_secs(i) + 3) end as senton,
			at_s(email_secs(i)) as createdon, at_s(email_secs(i) + 60) as modifiedon`},
		{name: "activityparty", rows: 2*o.emails + 2*o.appointments, query: activityPartyQuery(),
			fromFn: func(lo, hi int) string { return activityPartyRows(o, lo, hi) }},
		{name: "queueitem", rows: o.queueItems, query: `
			gid('queueitem', i) as queueitemid,
			` + lookupCols("queueid", "gid('queue', pick(i, 'qq', {queues}))", "'queue'", "'Support queue'") + `,
			` + lookupCols("objectid", "gid('incident', qc)", "'incident'", "case_title(qc)") + `,
			` + optionCols("statecode", "case when u(i, 'qs') < 0.3 then 0 else 1 end", "['Active', 'Inactive']") + `,
			at_s(case_secs(qc) + pick(i, 'qe', 86400)) as enteredon, at_s(case_secs(qc) + pick(i, 'qe', 86400)) as createdon,
			at_s(case_secs(qc) + 90000) as modifiedon`,
			fromFn: func(lo, hi int) string {
				return fmt.Sprintf("(select i, case when i < %d then i else pick(i, 'qc', %d) end as qc from range(%d, %d) r(i)) t",
					o.cases, max(1, o.cases), lo, hi)
			}},
		{name: "phonecall", rows: o.phoneCalls, query: activityQuery("phonecall", `
			'Call about ' || case_title(pick(i, 'rc', {cases})) as subject,
			case when u(i, 'pd') < 0.5 then sentences_text(hash(i, 'ps') % 1000000, 1 + pick(i, 'pn', 5)) end as description,
			'+1 555 ' || lpad(cast(i % 10000000 as varchar), 7, '0') as phonenumber,
			u(i, 'pdir') < 0.5 as directioncode, cast(1 + pick(i, 'pm', 60) as integer) as actualdurationminutes,
			`+optionCols("statecode", "case when u(i, 'ps') < 0.8 then 1 else 0 end", "['Open', 'Completed', 'Canceled']")+`,
			`+optionCols("statuscode", "case when u(i, 'ps') < 0.8 then 2 + pick(i, 'pk', 3) else 1 end",
			"['', 'Open', 'Made', 'Canceled', 'Received']")+`,
			at_s(case_secs(pick(i, 'rc', {cases})) + 7200) as actualstart, at_s(case_secs(pick(i, 'rc', {cases})) + 7800) as actualend,
			at_s(case_secs(pick(i, 'rc', {cases})) + 7000) as scheduledstart`)},
		{name: "task", rows: o.tasks, query: activityQuery("task", `
			'Follow up: ' || case_title(pick(i, 'rc', {cases})) as subject,
			case when u(i, 'td') < 0.6 then sentences_text(hash(i, 'ts') % 1000000, 1 + pick(i, 'tn', 4)) end as description,
			cast(pick(i, 'tp', 5) * 25 as integer) as percentcomplete,
			`+optionCols("prioritycode", "pick(i, 'tr', 3)", "['Low', 'Normal', 'High']")+`,
			`+optionCols("statecode", "case when u(i, 'tst') < 0.7 then 1 else 0 end", "['Open', 'Completed', 'Canceled']")+`,
			`+optionCols("statuscode", "case when u(i, 'tst') < 0.7 then 5 else 2 + pick(i, 'tk', 2) end",
			"['', '', 'Not Started', 'In Progress', 'Waiting on someone else', 'Completed']")+`,
			at_s(case_secs(pick(i, 'rc', {cases})) + 604800) as scheduledend,
			case when u(i, 'tst') < 0.7 then at_s(case_secs(pick(i, 'rc', {cases})) + 400000) end as actualend`)},
		{name: "appointment", rows: o.appointments, query: activityQuery("appointment", `
			'Visit: ' || case_title(pick(i, 'rc', {cases})) as subject,
			case when u(i, 'ad') < 0.3 then sentences_text(hash(i, 'as') % 1000000, 1 + pick(i, 'an', 3)) end as description,
			['Lyon', 'Teams meeting', 'Building 4, room 2.01', '東京本社', 'Москва'][1 + pick(i, 'al', 5)] as location,
			u(i, 'aa') < 0.1 as isalldayevent,
			`+optionCols("statecode", "case when u(i, 'ast') < 0.8 then 1 else 0 end", "['Open', 'Completed', 'Canceled', 'Scheduled']")+`,
			`+optionCols("statuscode", "case when u(i, 'ast') < 0.8 then 3 else 1 end", "['', 'Free', 'Tentative', 'Completed']")+`,
			at_s(case_secs(pick(i, 'rc', {cases})) + 172800) as scheduledstart,
			at_s(case_secs(pick(i, 'rc', {cases})) + 176400) as scheduledend`)},
	}
}

// activityQuery adds what phone calls, tasks and appointments share: id,
// regarding (85 % a case, 10 % an account, 5 % a contact), owner (95 % an
// agent) and times.
func activityQuery(table, own string) string {
	return `gid('` + table + `', i) as activityid, ` + own + `,
		` + lookupCols("regardingobjectid",
		"case when u(i, 'rk') < 0.85 then gid('incident', pick(i, 'rc', {cases})) when u(i, 'rk') < 0.95 then gid('account', pick(i, 'ra', {accounts})) else gid('contact', pick(i, 'rn', {contacts})) end",
		"case when u(i, 'rk') < 0.85 then 'incident' when u(i, 'rk') < 0.95 then 'account' else 'contact' end",
		"'Regarding'") + `,
		` + lookupCols("ownerid",
		"case when u(i, 'rw') < 0.95 then gid('systemuser', pick(i, 'ru', {users})) else gid('team', pick(i, 'rt', 10)) end",
		"case when u(i, 'rw') < 0.95 then 'systemuser' else 'team' end", "'Owner'") + `,
		at_s(case_secs(pick(i, 'rc', {cases})) + 3600) as createdon, at_s(case_secs(pick(i, 'rc', {cases})) + 90000) as modifiedon`
}

// activityPartyQuery: rows 2e and 2e+1 are email e's sender and recipient;
// after the emails, pairs of rows are an appointment's required attendee
// and organizer. An incoming email comes from the case's contact (3 % from
// an address without a partyid); an outgoing one from an agent.
func activityPartyQuery() string {
	return `
		gid('activityparty', i) as activitypartyid,
		case when party_contact and unresolved then 'unknown' || e || '@elsewhere.example'
			when party_contact then contact_mail(contact) else agent_mail(agent) end as addressused,
		` + lookupCols("activityid", "case when is_email then gid('email', e) else gid('appointment', e) end",
		"case when is_email then 'email' else 'appointment' end", "'Activity'") + `,
		` + lookupCols("partyid",
		"case when party_contact and unresolved then null when party_contact then gid('contact', contact) else gid('systemuser', agent) end",
		"case when party_contact and unresolved then null when party_contact then 'contact' else 'systemuser' end",
		"case when party_contact and unresolved then null when party_contact then contact_name(contact) else 'Agent ' || agent end") + `,
		` + optionCols("participationtypemask", "mask",
		"['', 'Sender', 'To Recipient', 'CC Recipient', 'BCC Recipient', 'Required attendee', 'Optional attendee', 'Organizer']") + `,
		at_s(1000) as modifiedon`
}

// activityPartyRows numbers the party rows [lo, hi) and works out, per row,
// its activity and whether the party is a contact or an agent.
func activityPartyRows(o benchOrg, lo, hi int) string {
	n := 2 * o.emails
	return fmt.Sprintf(`(
		select r.i, r.is_email, r.e,
			case when r.is_email then (r.i %% 2 = 0) = not email_out(r.e) else r.i %% 2 = 0 end as party_contact,
			r.is_email and r.i %% 2 = 0 and u(r.e, 'un') < 0.03 as unresolved,
			case when r.is_email and not case_on_account(email_case(r.e)) then case_contact(email_case(r.e))
				else pick(r.e, 'pc', {contacts}) end as contact,
			pick(r.e, 'eu', {users}) as agent,
			case when r.is_email then 1 + r.i %% 2 when r.i %% 2 = 0 then 5 else 7 end as mask
		from (select i, i < %d as is_email, case when i < %d then i // 2 else (i - %d) // 2 end as e
			from range(%d, %d) x(i)) r) t`, n, n, n, lo, hi)
}
