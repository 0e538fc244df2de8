package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jkind is the JSON type of one value read by the scanner.
type jkind uint8

const (
	jAbsent jkind = iota // the row has no such property; read as null
	jNull
	jString
	jNumber
	jTrue
	jFalse
	jObject
	jArray
)

// jval is one JSON value of a row kept raw: a string's unescaped contents
// or a number's text, pointing into the page body or the scanner's arena.
// Columns decide how to read it, so no number passes through float64 and
// no per-row Go map or interface value is built.
type jval struct {
	kind jkind
	b    []byte
}

func (v jval) isNull() bool { return v.kind == jAbsent || v.kind == jNull }

// kindName names a value's JSON type without its content, for errors.
func (v jval) kindName() string {
	switch v.kind {
	case jString:
		return "string"
	case jNumber:
		return "number"
	case jTrue, jFalse:
		return "boolean"
	case jObject:
		return "object"
	case jArray:
		return "array"
	}
	return "null"
}

var errTruncated = errors.New("truncated JSON")

// scanner reads JSON without building Go values: it is the page decoder's
// hot loop, run for every byte of every page. It reads either one whole
// buffer, or a stream through a window (newStreamScanner) that holds a few
// hundred rows, never the page.
type scanner struct {
	buf   []byte // buf[pos:] is unread
	pos   int
	arena []byte // unescaped strings of the current row

	src  io.Reader // nil: buf is the whole input
	tee  io.Writer // gets every byte read from src, in order
	eof  bool      // nothing more to read: a value cut at the end of buf is truncated
	read int64     // bytes taken from src
}

// streamWindow is the scanner's first window size; it doubles for a row
// (or another step) longer than it.
const streamWindow = 1 << 20

func newScanner(buf []byte) *scanner { return &scanner{buf: buf, eof: true} }

func newStreamScanner(src io.Reader, tee io.Writer, window int) *scanner {
	return &scanner{buf: make([]byte, 0, window), src: src, tee: tee}
}

// step runs read, one self-contained piece of the input (a row, a key, a
// separator). When it runs off the end of the window and the stream has
// more, the window is refilled and read is run again from where it started:
// read must not keep state across runs.
func (s *scanner) step(read func() error) error {
	for {
		mark := s.pos
		err := read()
		if err != errTruncated || s.eof {
			return err
		}
		s.pos = mark
		if err := s.refill(); err != nil {
			return err
		}
	}
}

// refill drops what is read, moves the rest to the window's start and reads
// until the window is full or the stream ends.
func (s *scanner) refill() error {
	rest := copy(s.buf[:cap(s.buf)], s.buf[s.pos:])
	s.buf, s.pos = s.buf[:rest], 0
	if rest == cap(s.buf) {
		s.buf = append(make([]byte, 0, 2*cap(s.buf)), s.buf...)
	}
	for len(s.buf) < cap(s.buf) {
		n, err := s.src.Read(s.buf[len(s.buf):cap(s.buf)])
		if n > 0 {
			if _, werr := s.tee.Write(s.buf[len(s.buf) : len(s.buf)+n]); werr != nil {
				return werr
			}
			s.buf = s.buf[:len(s.buf)+n]
			s.read += int64(n)
		}
		if err == io.EOF {
			s.eof = true
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// drain reads the stream to its end, so that tee sees every byte (a page
// ends with a newline after its object).
func (s *scanner) drain() error {
	for !s.eof {
		s.pos = len(s.buf)
		if err := s.refill(); err != nil {
			return err
		}
	}
	return nil
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// next returns the next non-space byte without consuming it.
func (s *scanner) next() (byte, error) {
	s.skipSpace()
	if s.pos >= len(s.buf) {
		return 0, errTruncated
	}
	return s.buf[s.pos], nil
}

func (s *scanner) unexpected(context string) error {
	return fmt.Errorf("invalid character %q %s at offset %d", s.buf[s.pos], context, s.pos)
}

// consume reads the byte want, after optional space.
func (s *scanner) consume(want byte, context string) error {
	c, err := s.next()
	if err != nil {
		return err
	}
	if c != want {
		return s.unexpected(context)
	}
	s.pos++
	return nil
}

// more reports whether a collection goes on after an element: it consumes
// a comma, or the closing byte end.
func (s *scanner) more(end byte, context string) (bool, error) {
	c, err := s.next()
	if err != nil {
		return false, err
	}
	s.pos++
	switch c {
	case ',':
		return true, nil
	case end:
		return false, nil
	}
	s.pos--
	return false, s.unexpected(context)
}

// empty consumes end when the collection just opened has no element.
func (s *scanner) empty(end byte) (bool, error) {
	c, err := s.next()
	if err != nil {
		return false, err
	}
	if c == end {
		s.pos++
		return true, nil
	}
	return false, nil
}

// value reads any JSON value. Objects and arrays are checked and skipped:
// no column holds one, so only their kind is kept.
func (s *scanner) value() (jval, error) {
	c, err := s.next()
	if err != nil {
		return jval{}, err
	}
	switch {
	case c == '"':
		b, err := s.str()
		return jval{jString, b}, err
	case c == '-' || c >= '0' && c <= '9':
		b, err := s.number()
		return jval{jNumber, b}, err
	case c == '{':
		return jval{kind: jObject}, s.skipObject()
	case c == '[':
		return jval{kind: jArray}, s.skipArray()
	case c == 't':
		return jval{kind: jTrue}, s.literal("true")
	case c == 'f':
		return jval{kind: jFalse}, s.literal("false")
	case c == 'n':
		return jval{kind: jNull}, s.literal("null")
	}
	return jval{}, s.unexpected("looking for beginning of value")
}

func (s *scanner) literal(lit string) error {
	end := s.pos + len(lit)
	if end > len(s.buf) {
		if string(s.buf[s.pos:]) == lit[:len(s.buf)-s.pos] {
			return errTruncated
		}
		end = len(s.buf)
	}
	if string(s.buf[s.pos:end]) != lit {
		return fmt.Errorf("invalid literal at offset %d, want %s", s.pos, lit)
	}
	s.pos = end
	return nil
}

func (s *scanner) skipObject() error {
	s.pos++ // '{'
	if done, err := s.empty('}'); done || err != nil {
		return err
	}
	for {
		if err := s.consume('"', "looking for beginning of object key string"); err != nil {
			return err
		}
		s.pos--
		if _, err := s.str(); err != nil {
			return err
		}
		if err := s.consume(':', "after object key"); err != nil {
			return err
		}
		if _, err := s.value(); err != nil {
			return err
		}
		more, err := s.more('}', "after object key:value pair")
		if !more {
			return err
		}
	}
}

func (s *scanner) skipArray() error {
	s.pos++ // '['
	if done, err := s.empty(']'); done || err != nil {
		return err
	}
	for {
		if _, err := s.value(); err != nil {
			return err
		}
		more, err := s.more(']', "after array element")
		if !more {
			return err
		}
	}
}

// number reads a number as written, checked against the JSON grammar.
func (s *scanner) number() ([]byte, error) {
	start, i := s.pos, s.pos
	if s.buf[i] == '-' {
		i++
	}
	i, ok := s.digits(i, true)
	if ok && i < len(s.buf) && s.buf[i] == '.' {
		i, ok = s.digits(i+1, false)
	}
	if ok && i < len(s.buf) && (s.buf[i] == 'e' || s.buf[i] == 'E') {
		i++
		if i < len(s.buf) && (s.buf[i] == '+' || s.buf[i] == '-') {
			i++
		}
		i, ok = s.digits(i, false)
	}
	if !ok {
		if i >= len(s.buf) {
			return nil, errTruncated
		}
		s.pos = i
		return nil, s.unexpected("in numeric literal")
	}
	if i == len(s.buf) && !s.eof {
		return nil, errTruncated // the digits may go on in the stream
	}
	s.pos = i
	return s.buf[start:i], nil
}

// digits reads one or more digits from i; lead refuses a leading zero
// followed by more digits.
func (s *scanner) digits(i int, lead bool) (int, bool) {
	start := i
	for i < len(s.buf) && s.buf[i] >= '0' && s.buf[i] <= '9' {
		i++
	}
	if i == start {
		return i, false
	}
	if lead && s.buf[start] == '0' && i-start > 1 {
		return start + 1, false
	}
	return i, true
}

// str reads a string at s.pos (its opening quote) and returns its contents:
// a slice of the body when there is nothing to unescape, else a copy in the
// arena. Invalid UTF-8 and lone surrogates become U+FFFD, as encoding/json
// decodes them.
func (s *scanner) str() ([]byte, error) {
	start := s.pos + 1
	plain := true
	for i := start; ; i++ {
		for i+8 <= len(s.buf) && !swarSpecial(binary.LittleEndian.Uint64(s.buf[i:])) {
			i += 8
		}
		if i >= len(s.buf) {
			return nil, errTruncated
		}
		switch c := s.buf[i]; {
		case c == '"':
			s.pos = i + 1
			if plain || utf8.Valid(s.buf[start:i]) {
				return s.buf[start:i], nil
			}
			return s.unescape(start)
		case c == '\\':
			return s.unescape(start)
		case c < 0x20:
			s.pos = i
			return nil, s.unexpected("in string literal")
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
}

// swarSpecial reports whether any of 8 string bytes needs a look: a quote,
// a backslash, a control character or a non-ASCII byte. Strings are most of
// a page, and testing 8 bytes at once is what keeps the scan fast.
func swarSpecial(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - ones) &^ v & highs }
	below0x20 := (x - ones*0x20) &^ x & highs
	return (below0x20 | hasZero(x^(ones*'"')) | hasZero(x^(ones*'\\')) | x&highs) != 0
}

// unescape is str's slow path, from the string's first content byte.
func (s *scanner) unescape(start int) ([]byte, error) {
	from := len(s.arena)
	for i := start; i < len(s.buf); {
		c := s.buf[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return s.arena[from:], nil
		case c == '\\':
			n, err := s.escape(i)
			if err != nil {
				return nil, err
			}
			i += n
		case c < 0x20:
			s.pos = i
			return nil, s.unexpected("in string literal")
		case c < utf8.RuneSelf:
			s.arena = append(s.arena, c)
			i++
		default:
			r, size := utf8.DecodeRune(s.buf[i:])
			if r == utf8.RuneError && size == 1 && !utf8.FullRune(s.buf[i:]) {
				return nil, errTruncated
			}
			s.arena = utf8.AppendRune(s.arena, r)
			i += size
		}
	}
	return nil, errTruncated
}

// escape appends the character the escape at i stands for and returns the
// escape's length.
func (s *scanner) escape(i int) (int, error) {
	if i+1 >= len(s.buf) {
		return 0, errTruncated
	}
	if r, ok := simpleEscapes[s.buf[i+1]]; ok {
		s.arena = append(s.arena, r)
		return 2, nil
	}
	if s.buf[i+1] != 'u' {
		s.pos = i + 1
		return 0, s.unexpected("in string escape code")
	}
	r, err := s.hex4(i + 2)
	if err != nil {
		return 0, err
	}
	n := 6
	if utf16.IsSurrogate(r) {
		r2 := rune(-1)
		if i+7 < len(s.buf) && s.buf[i+6] == '\\' && s.buf[i+7] == 'u' {
			if r2, err = s.hex4(i + 8); err != nil {
				return 0, err
			}
		}
		if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
			r, n = dec, 12
		} else {
			r = utf8.RuneError
		}
	}
	s.arena = utf8.AppendRune(s.arena, r)
	return n, nil
}

var simpleEscapes = map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

func (s *scanner) hex4(i int) (rune, error) {
	if i+4 > len(s.buf) {
		return 0, errTruncated
	}
	n, err := strconv.ParseUint(string(s.buf[i:i+4]), 16, 16)
	if err != nil {
		s.pos = i
		return 0, s.unexpected("in \\u hexadecimal character escape")
	}
	return rune(n), nil
}
