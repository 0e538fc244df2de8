package dataversetest

import (
	"bufio"
	"fmt"
	"net/http"
)

func (s *Server) hasDeletes(table string) bool {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	tc := s.changes.tables[table]
	if tc == nil {
		return false
	}
	for _, ch := range tc.events {
		if ch.deleted {
			return true
		}
	}
	return false
}

// deltaLink is the set URL with the read's $select and a new $deltatoken.
func (s *Server) deltaLink(q *query, stamp int64) string {
	u := s.base() + q.e.EntitySetName + "?"
	if q.selRaw != "" {
		u += "$select=" + q.selRaw + "&"
	}
	return u + "$deltatoken=" + escape(deltaToken(stamp, timeNow()))
}

// deltaList serves GET <set>?$deltatoken=...: changed rows, then
// $deletedEntity tombstones, paged like a list; the last page carries the
// next delta link (spec §8.2).
func (s *Server) deltaList(w http.ResponseWriter, r *http.Request, q *query) {
	d := q.delta
	entries := s.deltaEntries(q.table, d.since, d.upto)
	s.preferenceApplied(w, q)
	w.Header().Set("Content-Type", jsonCT)
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	fault := s.pageFault(r, w, bw)
	fmt.Fprintf(bw, `{"@odata.context":%s,"value":[`, jstr(s.context(q, "/$delta")))
	end := min(len(entries), d.offset+q.page)
	n := 0
	for _, en := range entries[min(d.offset, len(entries)):end] {
		if n > 0 {
			bw.WriteByte(',')
		}
		n++
		if en.deleted {
			fmt.Fprintf(bw, `{"@odata.context":%s,"id":%s,"reason":"deleted"}`,
				jstr(s.base()+"$metadata#"+q.e.EntitySetName+"/$deletedEntity"), jstr(s.org.ID(q.table, en.index)))
			continue
		}
		row, live, err := s.rowAt(q.table, en.index)
		if err != nil || !live { // deleted after upto: a tombstone comes with the next delta
			fmt.Fprintf(bw, `{"@odata.context":%s,"id":%s,"reason":"deleted"}`,
				jstr(s.base()+"$metadata#"+q.e.EntitySetName+"/$deletedEntity"), jstr(s.org.ID(q.table, en.index)))
			continue
		}
		writeRow(bw, q, row)
		fault.midway(n, q.page)
	}
	bw.WriteByte(']')
	fault.midway(q.page, q.page)
	if end < len(entries) {
		ck := fmt.Sprintf(`<cookie pagenumber="%d" istracking="True" d2ioffset="%d" d2iupto="%d" />`,
			d.offset/max(q.page, 1)+2, end, d.upto)
		fmt.Fprintf(bw, `,"@odata.nextLink":%s}`+"\n", jstr(s.nextLink(r, ck)))
		return
	}
	fmt.Fprintf(bw, `,"@odata.deltaLink":%s}`+"\n", jstr(s.deltaLink(q, d.upto)))
}
