package dataversetest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

const (
	maxPage  = 5000 // page and $count cap of standard tables (spec §5.1, §6)
	errQuery = "0x80060888"
	jsonCT   = "application/json; odata.metadata=minimal"
)

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, BasePath)
	switch {
	case p == "":
		s.serviceDocument(w)
	case p == "WhoAmI" || p == "WhoAmI()":
		s.whoAmI(w)
	case strings.HasPrefix(p, "RetrieveTotalRecordCount("):
		s.totalRecordCount(w, r, p)
	case strings.HasPrefix(p, "EntityDefinitions"):
		s.entityDefinitions(w, r, p)
	case strings.HasPrefix(p, "GlobalOptionSetDefinitions"):
		s.globalOptionSet(w, r, p)
	default:
		s.entitySet(w, r, p)
	}
}

func (s *Server) base() string { return s.URL + BasePath }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", jsonCT)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serviceDocument(w http.ResponseWriter) {
	var sets []obj
	for _, t := range s.org.Tables() {
		set := s.org.Entity(t).EntitySetName
		sets = append(sets, obj{{"name", set}, {"kind", "EntitySet"}, {"url", set}})
	}
	writeJSON(w, obj{{"@odata.context", s.base() + "$metadata"}, {"value", sets}})
}

func (s *Server) whoAmI(w http.ResponseWriter) {
	writeJSON(w, obj{
		{"@odata.context", s.base() + "$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse"},
		{"BusinessUnitId", "0b1e5e5a-0000-4000-8000-00000000b001"},
		{"UserId", s.org.ID("systemuser", 0)},
		{"OrganizationId", "0a9e5e5a-0000-4000-8000-00000000a001"},
	})
}

var namesRe = regexp.MustCompile(`'([^']*)'|"([^"]*)"`)

// totalRecordCount serves RetrieveTotalRecordCount(EntityNames=[...]) and
// the parameter-alias form (EntityNames=@p)?@p=[...].
func (s *Server) totalRecordCount(w http.ResponseWriter, r *http.Request, p string) {
	arg := strings.TrimSuffix(strings.TrimPrefix(p, "RetrieveTotalRecordCount("), ")")
	arg = strings.TrimSpace(strings.TrimPrefix(arg, "EntityNames="))
	if strings.HasPrefix(arg, "@") {
		arg = r.URL.Query().Get(arg)
	}
	var keys []string
	var vals []int64
	for _, m := range namesRe.FindAllStringSubmatch(arg, -1) {
		name := m[1] + m[2]
		if s.org.Entity(name) == nil {
			writeError(w, http.StatusBadRequest, "0x80040217", fmt.Sprintf("Could not find entity with logical name '%s'.", name))
			return
		}
		keys, vals = append(keys, name), append(vals, int64(s.org.Count(name)))
	}
	writeJSON(w, obj{
		{"@odata.context", s.base() + "$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse"},
		{"EntityRecordCountCollection", obj{{"Count", len(keys)}, {"IsReadOnly", false}, {"Keys", keys}, {"Values", vals}}},
	})
}

func (s *Server) tableBySet(set string) (string, *sampleorg.Entity) {
	for _, t := range s.org.Tables() {
		if e := s.org.Entity(t); e.EntitySetName == set {
			return t, e
		}
	}
	return "", nil
}

var (
	keyRe   = regexp.MustCompile(`^([A-Za-z_]+)(?:\(([^)]*)\))?(/\$count)?$`)
	valueRe = regexp.MustCompile(`^([A-Za-z_]+)\(([^)]*)\)/(\w+)/\$value$`)
)

func (s *Server) entitySet(w http.ResponseWriter, r *http.Request, p string) {
	if m := valueRe.FindStringSubmatch(p); m != nil {
		s.binaryValue(w, r, m[1], strings.Trim(m[2], "'{}"), m[3])
		return
	}
	m := keyRe.FindStringSubmatch(p)
	if m == nil {
		writeError(w, http.StatusNotFound, errQuery, fmt.Sprintf("Resource not found for the segment '%s'.", p))
		return
	}
	table, e := s.tableBySet(m[1])
	if e == nil {
		writeError(w, http.StatusNotFound, errQuery, fmt.Sprintf("Resource not found for the segment '%s'.", m[1]))
		return
	}
	v := r.URL.Query()
	if v.Has("$skiptoken") && !v.Has("$deltatoken") && s.opt.PageChurn != (Churn{}) {
		if _, err := s.Churn(table, s.opt.PageChurn); err != nil {
			writeError(w, http.StatusInternalServerError, "", err.Error())
			return
		}
	}
	q, err := s.parseQuery(r, table, e)
	if err == errExpired {
		writeError(w, http.StatusBadRequest, "", deltaExpired) // status and code unverified (spec §8.2)
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, errQuery, err.Error())
		return
	}
	switch {
	case m[2] != "":
		s.single(w, q, strings.Trim(m[2], "'{}"))
	case m[3] != "" && q.delta != nil:
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, len(s.deltaEntries(table, q.delta.since, s.currentStamp())))
	case m[3] != "":
		w.Header().Set("Content-Type", "text/plain")
		// The /$count path is capped like $count=true (unverified for real Dataverse, spec §6).
		fmt.Fprint(w, s.countMatches(q, maxPage))
	case q.delta != nil:
		s.deltaList(w, r, q)
	default:
		s.list(w, r, q)
	}
}

// query is a parsed entity-set request.
type query struct {
	table   string
	e       *sampleorg.Entity
	sel     []*sampleorg.Attribute // nil: every column
	selRaw  string
	filter  pred
	desc    bool
	top     int
	count   bool
	page    int
	maxPref string // maxpagesize preference as sent, "" if none
	ann     annotations
	annRaw  string
	start   int // first index to scan
	pageNo  int

	trackPref bool      // Prefer: odata.track-changes was sent
	tracking  bool      // a change-tracking read: the last page carries a delta link
	trackFrom int64     // the stamp its delta token will carry (-1: mint at the last page)
	delta     *deltaReq // a delta request ($deltatoken)

	render  *rowRenderer // made on first use
	scratch []byte       // one rendered row, reused
}

// deltaReq is a $deltatoken request: changes in (since, upto], from offset.
type deltaReq struct {
	since, upto int64
	offset      int
	token       string
}

func (s *Server) parseQuery(r *http.Request, table string, e *sampleorg.Entity) (*query, error) {
	v := r.URL.Query()
	q := &query{table: table, e: e, top: -1, pageNo: 1}
	for _, unsupported := range []string{"$skip"} {
		if v.Has(unsupported) {
			return nil, fmt.Errorf("Skip Clause is not supported in CRM")
		}
	}
	if v.Has("$expand") || v.Has("$apply") || v.Has("fetchXml") {
		// TODO: $expand, $apply and fetchXml are not emulated.
		return nil, fmt.Errorf("The query option is not supported by the emulator.")
	}
	if sel := v.Get("$select"); sel != "" {
		q.selRaw = sel
		for _, name := range strings.Split(sel, ",") {
			a := byODataName(e, strings.TrimSpace(name))
			if a == nil {
				return nil, fmt.Errorf("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", strings.TrimSpace(name), table)
			}
			q.sel = append(q.sel, a)
		}
	}
	if f := v.Get("$filter"); f != "" {
		p, err := parseFilter(f, e)
		if err != nil {
			return nil, err
		}
		q.filter = p
	}
	if ob := strings.TrimSpace(v.Get("$orderby")); ob != "" {
		col, dir, _ := strings.Cut(ob, " ")
		if col != e.PrimaryIdAttribute || (dir != "" && dir != "asc" && dir != "desc") {
			// TODO: $orderby on columns other than the primary key.
			return nil, fmt.Errorf("The emulator orders by the primary key '%s' only, got '%s'.", e.PrimaryIdAttribute, ob)
		}
		q.desc = dir == "desc"
	}
	if t := v.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("Invalid value '%s' for $top query option.", t)
		}
		q.top = n
	}
	q.count = v.Get("$count") == "true"
	s.applyPrefer(r, q)
	if q.desc {
		q.start = s.count(table) - 1
	}
	if dt := v.Get("$deltatoken"); dt != "" {
		return q, s.parseDelta(q, v, dt)
	}
	if tok := v.Get("$skiptoken"); tok != "" {
		if err := s.resume(q, tok); err != nil {
			return nil, err
		}
	} else if q.trackPref {
		q.tracking, q.trackFrom = true, s.currentStamp()
		if s.opt.DeltaFromLastPage {
			q.trackFrom = -1
		}
	}
	if q.tracking {
		return q, s.checkTracking(q, v)
	}
	return q, nil
}

// checkTracking applies the change-tracking rules of spec §8.1-8.2.
func (s *Server) checkTracking(q *query, v url.Values) error {
	if !q.e.ChangeTrackingEnabled {
		if s.opt.IgnoreUntrackedChanges {
			q.tracking = false
			return nil
		}
		return fmt.Errorf("Change tracking is not enabled for the entity '%s'.", q.table)
	}
	for _, o := range []string{"$filter", "$orderby", "$top", "$expand"} {
		if v.Has(o) {
			return fmt.Errorf("The query parameter %s is not supported when Change Tracking is enabled.", o)
		}
	}
	return nil
}

func (s *Server) parseDelta(q *query, v url.Values, tok string) error {
	for _, o := range []string{"$filter", "$orderby", "$top", "$expand"} {
		if v.Has(o) {
			return fmt.Errorf("The query parameter %s is not supported when Change Tracking is enabled.", o)
		}
	}
	since, err := s.parseDeltaToken(tok)
	if err != nil {
		return err
	}
	q.delta = &deltaReq{since: since, upto: s.currentStamp(), token: tok}
	if ck := v.Get("$skiptoken"); ck != "" {
		om, um := deltaOffsetRe.FindStringSubmatch(ck), deltaUptoRe.FindStringSubmatch(ck)
		if om == nil || um == nil {
			return fmt.Errorf("The $skiptoken is not a valid paging cookie.")
		}
		q.delta.offset, _ = strconv.Atoi(om[1])
		q.delta.upto, _ = strconv.ParseInt(um[1], 10, 64)
	}
	return nil
}

func byODataName(e *sampleorg.Entity, name string) *sampleorg.Attribute {
	if strings.HasPrefix(name, "_") && strings.HasSuffix(name, "_value") {
		a := e.Attribute(strings.TrimSuffix(strings.TrimPrefix(name, "_"), "_value"))
		if a != nil && a.IsColumn() && a.IsLookup() {
			return a
		}
		return nil
	}
	a := e.Attribute(name)
	if a == nil || !a.IsColumn() || a.IsLookup() {
		return nil
	}
	return a
}

// applyPrefer reads odata.maxpagesize and odata.include-annotations.
func (s *Server) applyPrefer(r *http.Request, q *query) {
	q.page = maxPage
	for _, h := range r.Header.Values("Prefer") {
		for _, part := range splitPrefer(h) {
			k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch strings.TrimSpace(k) {
			case "odata.maxpagesize":
				q.maxPref = val
				if n, err := strconv.Atoi(val); err == nil && n > 0 && n <= maxPage {
					q.page = n
				}
			case "odata.include-annotations":
				q.annRaw = val
				q.ann = parseAnnotations(strings.Trim(val, `"`))
			case "odata.track-changes":
				q.trackPref = true
			}
		}
	}
	if q.maxPref == "" && q.top >= 0 && q.top < q.page {
		q.page = q.top // $top is ignored when maxpagesize is sent (spec §4)
	}
}

// splitPrefer splits on commas outside double quotes.
func splitPrefer(h string) []string {
	var out []string
	inQ, last := false, 0
	for i, c := range h {
		switch {
		case c == '"':
			inQ = !inQ
		case c == ',' && !inQ:
			out = append(out, h[last:i])
			last = i + 1
		}
	}
	return append(out, h[last:])
}

var (
	cookiePageRe  = regexp.MustCompile(`pagenumber="(\d+)"`)
	cookieInRe    = regexp.MustCompile(`pagingcookie="([^"]*)"`)
	cookieLastRe  = regexp.MustCompile(`last="\{([0-9A-Fa-f-]{36})\}"`)
	trackingRe    = regexp.MustCompile(`istracking="True"`)
	trackFromRe   = regexp.MustCompile(`d2itrackfrom="(-?\d+)"`)
	deltaOffsetRe = regexp.MustCompile(`d2ioffset="(\d+)"`)
	deltaUptoRe   = regexp.MustCompile(`d2iupto="(\d+)"`)
)

// resume decodes the paging cookie: keyset paging resumes after its last key.
func (s *Server) resume(q *query, tok string) error {
	bad := fmt.Errorf("The $skiptoken is not a valid paging cookie.")
	pm, im := cookiePageRe.FindStringSubmatch(tok), cookieInRe.FindStringSubmatch(tok)
	if pm == nil || im == nil {
		return bad
	}
	inner, err := url.QueryUnescape(im[1])
	if err != nil {
		return bad
	}
	lm := cookieLastRe.FindStringSubmatch(inner)
	if lm == nil || !strings.Contains(inner, "<"+q.e.PrimaryIdAttribute+" ") {
		return bad
	}
	idx, ok := s.position(q.table, strings.ToLower(lm[1]))
	if !ok {
		return bad
	}
	q.pageNo, _ = strconv.Atoi(pm[1])
	if trackingRe.MatchString(tok) {
		q.tracking = true
		if fm := trackFromRe.FindStringSubmatch(tok); fm != nil {
			q.trackFrom, _ = strconv.ParseInt(fm[1], 10, 64)
		}
	}
	if q.desc {
		q.start = idx - 1
	} else {
		q.start = idx + 1
	}
	return nil
}

func cookie(pk string, page int, first, last string) string {
	inner := fmt.Sprintf(`<cookie page="%d"><%s last="{%s}" first="{%s}" /></cookie>`,
		page, pk, strings.ToUpper(last), strings.ToUpper(first))
	return fmt.Sprintf(`<cookie pagenumber="%d" pagingcookie="%s" istracking="False" />`,
		page+1, escape(inner))
}

// trackingCookie marks a change-tracking read and carries the stamp its
// delta token will hold (an emulator attribute; cookies are opaque).
func trackingCookie(pk string, page int, first, last string, from int64) string {
	c := strings.Replace(cookie(pk, page, first, last), `istracking="False"`, `istracking="True"`, 1)
	return strings.Replace(c, " />", fmt.Sprintf(` d2itrackfrom="%d" />`, from), 1)
}

func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// scan walks matching rows from q.start in order, calling fn until it
// returns false. Rows are generated one at a time (constant memory).
func (s *Server) scan(q *query, from int, fn func(i int, row sampleorg.Row) bool) error {
	n := s.count(q.table)
	step := 1
	if q.desc {
		step = -1
	}
	for i := from; i >= 0 && i < n; i += step {
		row, live, err := s.rowAt(q.table, i)
		if err != nil {
			return fmt.Errorf("generate %s row %d: %w", q.table, i, err)
		}
		if !live || q.filter != nil && !q.filter(row) {
			continue
		}
		if !fn(i, row) {
			return nil
		}
	}
	return nil
}

func (s *Server) countMatches(q *query, limit int) int {
	if q.filter == nil && !s.hasDeletes(q.table) {
		return min(s.count(q.table), limit)
	}
	c := 0
	start := 0
	if q.desc {
		start = s.count(q.table) - 1
	}
	_ = s.scan(q, start, func(int, sampleorg.Row) bool { c++; return c < limit })
	return c
}

func (s *Server) context(q *query, suffix string) string {
	set := q.e.EntitySetName
	if q.selRaw != "" {
		set += "(" + q.selRaw + ")"
	}
	return s.base() + "$metadata#" + set + suffix
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, q *query) {
	s.preferenceApplied(w, q)
	w.Header().Set("Content-Type", jsonCT)
	if !s.cacheable(q) {
		s.renderList(w, r, q, w)
		return
	}
	if s.serveCached(w, r) {
		return
	}
	rec := s.recordPage(r)
	if rec == nil {
		s.renderList(w, r, q, w)
		return
	}
	rec.commit(s.renderList(w, r, q, io.MultiWriter(w, rec)))
}

// renderList writes one page to out (w itself, or w teed into the page
// cache); it reports whether the page was written in full.
func (s *Server) renderList(w http.ResponseWriter, r *http.Request, q *query, out io.Writer) bool {
	bw := bufio.NewWriterSize(out, 64<<10)
	defer bw.Flush()
	fault := s.pageFault(r, w, bw)
	fmt.Fprintf(bw, `{"@odata.context":%s`, jstr(s.context(q, "")))
	if q.ann.match("Microsoft.Dynamics.CRM.globalmetadataversion") {
		fmt.Fprintf(bw, `,"@Microsoft.Dynamics.CRM.globalmetadataversion":"%d"`, 7345678)
	}
	if q.count || q.ann.match("Microsoft.Dynamics.CRM.totalrecordcount") {
		total := -1
		exceeded := false
		if q.count {
			c := s.countMatches(q, maxPage+1)
			total, exceeded = min(c, maxPage), c > maxPage
			fmt.Fprintf(bw, `,"@odata.count":%d`, total)
		}
		if q.ann.match("Microsoft.Dynamics.CRM.totalrecordcount") {
			fmt.Fprintf(bw, `,"@Microsoft.Dynamics.CRM.totalrecordcount":%d`, total)
		}
		if q.ann.match("Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded") {
			fmt.Fprintf(bw, `,"@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded":%t`, exceeded)
		}
	}
	bw.WriteString(`,"value":[`)
	var first, last string
	n, more := 0, false
	err := s.scan(q, q.start, func(i int, row sampleorg.Row) bool {
		if n == q.page {
			more = true
			return false
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		id := s.org.ID(q.table, i)
		if n == 0 {
			first = id
		}
		last = id
		writeRow(bw, q, row)
		n++
		fault.midway(n, q.page)
		return true
	})
	bw.WriteByte(']')
	if err != nil {
		// TODO: a generation error mid-page cannot change the status any more.
		return false
	}
	fault.midway(q.page, q.page) // empty or short pages still drop or stall
	switch {
	case more && (q.maxPref != "" || q.top < 0) && q.tracking:
		link := s.nextLink(r, trackingCookie(q.e.PrimaryIdAttribute, q.pageNo, first, last, q.trackFrom))
		fmt.Fprintf(bw, `,"@odata.nextLink":%s`, jstr(link))
	case more && (q.maxPref != "" || q.top < 0):
		link := s.nextLink(r, cookie(q.e.PrimaryIdAttribute, q.pageNo, first, last))
		fmt.Fprintf(bw, `,"@odata.nextLink":%s`, jstr(link))
	case q.tracking:
		from := q.trackFrom
		if from < 0 {
			from = s.currentStamp()
		}
		fmt.Fprintf(bw, `,"@odata.deltaLink":%s`, jstr(s.deltaLink(q, from)))
	}
	bw.WriteString("}\n")
	return bw.Flush() == nil
}

func (s *Server) preferenceApplied(w http.ResponseWriter, q *query) {
	var applied []string
	if q.maxPref != "" {
		// Echoes the value sent, even above 5,000 (unverified, spec §5.1).
		applied = append(applied, "odata.maxpagesize="+q.maxPref)
	}
	if q.annRaw != "" {
		applied = append(applied, "odata.include-annotations="+q.annRaw)
	}
	if q.trackPref && (q.tracking || q.delta != nil) {
		applied = append(applied, "odata.track-changes")
	}
	if len(applied) > 0 {
		w.Header().Set("Preference-Applied", strings.Join(applied, ","))
	}
}

// nextLink repeats the request's query options verbatim and replaces the
// $skiptoken.
func (s *Server) nextLink(r *http.Request, ck string) string {
	var parts []string
	for _, p := range strings.Split(r.URL.RawQuery, "&") {
		if p == "" || strings.HasPrefix(p, "$skiptoken=") || strings.HasPrefix(p, "%24skiptoken=") {
			continue
		}
		parts = append(parts, p)
	}
	parts = append(parts, "$skiptoken="+escape(ck))
	return s.URL + r.URL.EscapedPath() + "?" + strings.Join(parts, "&")
}

func (s *Server) single(w http.ResponseWriter, q *query, id string) {
	row, ok, err := s.lookup(q.table, id)
	if err == nil && !ok {
		writeError(w, http.StatusNotFound, "0x80040217", fmt.Sprintf("%s With Id = %s Does Not Exist", q.table, id))
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "", err.Error())
		return
	}
	s.preferenceApplied(w, q)
	w.Header().Set("Content-Type", jsonCT)
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, `{"@odata.context":%s,`, jstr(s.context(q, "/$entity")))
	var body strings.Builder
	writeRowTo(&body, q, row)
	bw.WriteString(body.String()[1:]) // drop the row's "{" to merge it with the context
	bw.WriteString("\n")
}

// ---- serialisation ----

// jstr renders s as a JSON string exactly as json.Marshal does (HTML
// characters, U+2028/U+2029 and invalid UTF-8 escaped the same way), without
// its reflection and allocations: it ran for every value of every row and
// capped the emulator near DuckDB's speed (BENCHMARKS.md).
func jstr(s string) string {
	return string(appendJSONString(make([]byte, 0, len(s)+2), s))
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s, quoted and escaped, to b.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe(c) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = appendEscapedByte(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonSafe is an ASCII byte json.Marshal writes as is.
func jsonSafe(c byte) bool {
	return c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}

func appendEscapedByte(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// writeRow writes one entity of a list page.
func writeRow(bw *bufio.Writer, q *query, row sampleorg.Row) {
	q.scratch = q.renderer().appendRow(q.scratch[:0], row)
	bw.Write(q.scratch)
}

// writeRowTo writes one entity on its own.
func writeRowTo(w interface{ WriteString(string) (int, error) }, q *query, row sampleorg.Row) {
	w.WriteString(string(q.renderer().appendRow(nil, row)))
}

func selected(sel []*sampleorg.Attribute, a *sampleorg.Attribute) bool {
	for _, x := range sel {
		if x == a {
			return true
		}
	}
	return false
}

// jsonValue is one column value as the emulator writes it.
func jsonValue(a *sampleorg.Attribute, v any) string {
	c := newRenderedColumn(a)
	return string(appendJSONValue(nil, &c, v))
}
