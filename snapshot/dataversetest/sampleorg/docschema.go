package sampleorg

import (
	"fmt"
	"strconv"
	"strings"
)

// A compact notation for the tables written from the documentation (see
// docentities.go), so that twenty definitions stay readable. One column is
// "name type [flags]":
//
//	pk, guid                 Uniqueidentifier (pk = the primary id)
//	s<N>, m<N>, email<N>     String, Memo, String with Email format; MaxLength N
//	int, bigint, dec, money  Integer, BigInt, Decimal (2 places), Money
//	bool:True/False          Boolean with its two labels
//	dt, dtdate, dateonly     DateTime: UserLocal date+time, UserLocal DateOnly
//	                         format, DateOnly behavior
//	lk:a|b                   Lookup to tables a, b; owner; cust (account|contact)
//	ename                    EntityName
//	pick:1=Label,2=Other     Picklist (underscores in labels become spaces)
//	state:0=Open/1           State option with its default status
//	status:1=Open/0          Status option with its state
//
// Flags: name (primary name), custom (IsCustomAttribute).

type tableFlags int

const (
	flagActivity tableFlags = 1 << iota
	flagTracked
	flagCustom
	flagIntersect
)

func ent(logical, set, pk, name string, otc int, display string, fl tableFlags, cols ...string) *Entity {
	e := &Entity{
		LogicalName: logical, SchemaName: schemaName(logical), EntitySetName: set,
		PrimaryIdAttribute: pk, PrimaryNameAttribute: name, ObjectTypeCode: otc,
		MetadataID: docMetadataID("entity/" + logical), DisplayName: display,
		IsActivity: fl&flagActivity != 0, ChangeTrackingEnabled: fl&flagTracked != 0,
		IsCustomEntity: fl&flagCustom != 0, IsIntersect: fl&flagIntersect != 0,
	}
	for _, c := range cols {
		e.Attributes = append(e.Attributes, parseCol(logical, c, fl&flagActivity != 0))
	}
	return e
}

// schemaName derives a SchemaName from the logical name (first letter after
// the publisher prefix upper-cased): the hand-written tables have no
// authoritative one, and readers use logical names.
func schemaName(logical string) string {
	if p, rest, ok := strings.Cut(logical, "_"); ok && rest != "" {
		return p + "_" + strings.ToUpper(rest[:1]) + rest[1:]
	}
	return strings.ToUpper(logical[:1]) + logical[1:]
}

func parseCol(table, spec string, activity bool) *Attribute {
	f := strings.Fields(spec)
	if len(f) < 2 {
		panic("sampleorg: bad column spec " + spec)
	}
	name, typ := f[0], f[1]
	kind, arg, _ := strings.Cut(typ, ":")
	display := strings.ReplaceAll(name, "_", " ")
	var a *Attribute
	num := func(prefix string) int {
		n, err := strconv.Atoi(strings.TrimPrefix(kind, prefix))
		if err != nil {
			panic(fmt.Sprintf("sampleorg: %s.%s: bad length in %q", table, name, kind))
		}
		return n
	}
	switch {
	case kind == "pk":
		a = docAttr(name, schemaName(name), "Uniqueidentifier", display, withPrimaryID)
	case kind == "guid":
		a = docAttr(name, schemaName(name), "Uniqueidentifier", display)
	case kind == "int":
		a = docAttr(name, schemaName(name), "Integer", display)
		a.MinValue, a.MaxValue = "-2147483648", "2147483647"
	case kind == "bigint":
		a = docAttr(name, schemaName(name), "BigInt", display)
	case kind == "dec", kind == "money":
		t := map[string]string{"dec": "Decimal", "money": "Money"}[kind]
		a = docAttr(name, schemaName(name), t, display)
		p := 2
		a.Precision, a.MinValue, a.MaxValue = &p, "0", "1000000000"
	case kind == "bool":
		t, fl, _ := strings.Cut(arg, "/")
		a = docAttr(name, schemaName(name), "Boolean", display, withBool(table+"_"+name, t, fl))
	case kind == "dt":
		a = docAttr(name, schemaName(name), "DateTime", display, withDate("UserLocal", "DateAndTime"))
	case kind == "dtdate":
		a = docAttr(name, schemaName(name), "DateTime", display, withDate("UserLocal", "DateOnly"))
	case kind == "dateonly":
		a = docAttr(name, schemaName(name), "DateTime", display, withDate("DateOnly", "DateOnly"))
	case kind == "ename":
		a = docAttr(name, schemaName(name), "EntityName", display)
	case kind == "lk", kind == "owner", kind == "cust":
		a = lookupCol(table, name, kind, arg, activity)
	case kind == "pick", kind == "state", kind == "status":
		t := map[string]string{"pick": "Picklist", "state": "State", "status": "Status"}[kind]
		a = docAttr(name, schemaName(name), t, display, withOptions(table+"_"+name, t, parseOptions(kind, arg)...))
	case strings.HasPrefix(kind, "email"):
		a = docAttr(name, schemaName(name), "String", display, withMax(num("email")), withFormat("Email"))
	case strings.HasPrefix(kind, "s"):
		a = docAttr(name, schemaName(name), "String", display, withMax(num("s")))
	case strings.HasPrefix(kind, "m"):
		a = docAttr(name, schemaName(name), "Memo", display, withMax(num("m")))
	default:
		panic(fmt.Sprintf("sampleorg: %s.%s: unknown column type %q", table, name, typ))
	}
	for _, fl := range f[2:] {
		switch fl {
		case "name":
			a.IsPrimaryName = true
		case "custom":
			a.IsCustomAttribute = true
			if a.OptionSet != nil {
				a.OptionSet.IsCustom = true
			}
		}
	}
	return a
}

// lookupCol names navigation properties as Dataverse does: the column name
// for a single target, <col>_<target> for polymorphic ones, and
// regardingobjectid_<target>_<activity> on activities.
func lookupCol(table, name, kind, arg string, activity bool) *Attribute {
	typ := map[string]string{"lk": "Lookup", "owner": "Owner", "cust": "Customer"}[kind]
	targets := strings.Split(arg, "|")
	switch kind {
	case "owner":
		targets = []string{"systemuser", "team"}
	case "cust":
		targets = []string{"account", "contact"}
	}
	a := docAttr(name, schemaName(name), typ, strings.ReplaceAll(name, "_", " "))
	a.MetadataType = "LookupAttributeMetadata"
	a.Targets = targets
	a.NavProps = map[string]string{}
	for _, t := range targets {
		switch {
		case kind == "owner" || len(targets) == 1:
			a.NavProps[t] = name
		case activity && name == "regardingobjectid":
			a.NavProps[t] = name + "_" + t + "_" + table
		default:
			a.NavProps[t] = name + "_" + t
		}
	}
	return a
}

func parseOptions(kind, arg string) []Option {
	var out []Option
	for _, p := range strings.Split(arg, ",") {
		v, rest, _ := strings.Cut(p, "=")
		label, link, hasLink := strings.Cut(rest, "/")
		n, err := strconv.Atoi(v)
		if err != nil {
			panic("sampleorg: bad option " + p)
		}
		label = strings.ReplaceAll(label, "_", " ")
		l := 0
		if hasLink {
			if l, err = strconv.Atoi(link); err != nil {
				panic("sampleorg: bad option link " + p)
			}
		}
		switch kind {
		case "state":
			out = append(out, stateOpt(n, label, l))
		case "status":
			out = append(out, statusOpt(n, label, l))
		default:
			out = append(out, opt(n, label))
		}
	}
	return out
}

// Columns most tables share.
var (
	stdCols   = []string{"createdon dt", "modifiedon dt", "versionnumber bigint"}
	ownedCols = append([]string{"ownerid owner", "owninguser lk:systemuser", "createdby lk:systemuser",
		"modifiedby lk:systemuser"}, stdCols...)
)

func cols(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func c(s ...string) []string { return s }
