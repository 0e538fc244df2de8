package sampleorg

import (
	"strconv"
	"strings"
)

// Table codes go into the third group of every generated GUID so that ids of
// different tables never collide.
var tableCodes = map[string]byte{
	"account": 0x01, "contact": 0x02, "incident": 0x03, "email": 0x04,
	"activityparty": 0x05, "systemuser": 0x06, "queue": 0x07, "annotation": 0x08,
	"team": 0x09, "teammembership": 0x0a, "queuemembership": 0x0b, "queueitem": 0x0c, "calendar": 0x0d,
	"sla": 0x0e, "slaitem": 0x0f, "entitlementtemplate": 0x10, "entitlement": 0x11, "entitlementchannel": 0x12,
	"slakpiinstance": 0x13, "incidentresolution": 0x14, "phonecall": 0x15, "task": 0x16, "appointment": 0x17,
	"activitymimeattachment": 0x18, "languagelocale": 0x19, "category": 0x1a, "knowledgearticle": 0x1b,
	"knowledgearticlescategories": 0x1c, "workflow": 0x1d, "new_warrantyclaim": 0x1e,
	"msdyn_ocliveworkitem": 0x1f, "msdyn_ocsession": 0x20, "msdyn_transcript": 0x21, "msdyn_ocrecording": 0x22,
}

// hash64 mixes the seed, a label and an index into 64 well-spread bits.
func hash64(seed int64, label string, i int64) uint64 {
	h := uint64(14695981039346656037)
	for _, b := range []byte(label) {
		h ^= uint64(b)
		h *= 1099511628211
	}
	h ^= uint64(seed) * 0x9e3779b97f4a7c15
	h = mix64(h)
	h ^= uint64(i) * 0xbf58476d1ce4e5b9
	return mix64(h)
}

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// rnd is a tiny deterministic stream (splitmix64): every row gets its own,
// seeded from (seed, table, index), so a row never depends on another's draws.
type rnd struct{ s uint64 }

func newRnd(seed int64, label string, i int) *rnd { return &rnd{s: hash64(seed, label, int64(i))} }

func (r *rnd) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn returns a value in [0, n).
func (r *rnd) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return int(r.u64() % uint64(n))
}

// chance is true with probability p percent (p in 0..100, fractional ok).
func (r *rnd) chance(p float64) bool { return float64(r.u64()%1000000) < p*10000 }

func pick[T any](r *rnd, xs []T) T { return xs[r.intn(len(xs))] }

// guidFrom formats a lowercase GUID whose last 6 bytes are the row index.
// SQL Server compares uniqueidentifiers by those 6 bytes first, so the
// emulator's primary-key order (SQL Server semantics) equals index order.
// It is fmt's "%08x-%04x-%02x11-%04x-%012x" written by hand: every row
// carries several ids, and fmt was a sixth of the row generator's time.
func guidFrom(h uint64, code byte, index int64) string {
	var b [36]byte
	putHex(b[0:8], uint64(uint32(h>>32)))
	b[8] = '-'
	putHex(b[9:13], uint64(uint16(h>>16)))
	b[13] = '-'
	putHex(b[14:16], uint64(code))
	b[16], b[17], b[18] = '1', '1', '-'
	putHex(b[19:23], uint64(0x8000|uint16(h&0x3fff)))
	b[23] = '-'
	putHex(b[24:36], uint64(index)&0xffffffffffff)
	return string(b[:])
}

// putHex fills dst with v in lower-case hex, zero-padded.
func putHex(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = "0123456789abcdef"[v&0xf]
		v >>= 4
	}
}

// ID returns the primary key of row i of table t.
func (o *Org) ID(table string, i int) string {
	return guidFrom(hash64(o.seed, "id/"+table, int64(i)), tableCodes[table], int64(i))
}

// IndexOf maps a primary key back to its row index; ok is false when the id
// is not a row of that table.
func (o *Org) IndexOf(table, id string) (int, bool) {
	id = strings.ToLower(strings.Trim(id, "{}"))
	if len(id) != 36 {
		return 0, false
	}
	n, err := strconv.ParseInt(id[24:], 16, 64)
	if err != nil || n < 0 || int(n) >= o.Count(table) {
		return 0, false
	}
	if o.ID(table, int(n)) != id {
		return 0, false
	}
	return int(n), true
}
