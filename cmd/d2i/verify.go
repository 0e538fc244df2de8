package main

import (
	"context"
	"fmt"
	"io"

	"github.com/d2i/d2i/replay"
)

type verifyOptions struct {
	db          string
	intercomURL string
	logDir      string
	out         string
	sample      int
	seed        int64
	workers     int
	rate        int
	log         logOptions
}

func runVerify(ctx context.Context, args []string, stdout io.Writer) error {
	var o verifyOptions
	fs := newFlagSet("verify", "verify --db FILE --log-dir DIR --out DIR [flags]",
		`  export D2I_INTERCOM_TOKEN_FILE=~/.config/d2i/intercom-token
  d2i verify --db staging.duckdb --log-dir writelog --out verify
  d2i verify --db staging.duckdb --log-dir writelog --out verify --sample 200 --seed 7

Reads back what replay wrote (GET requests only, paced like replay) and compares
each mapped field with staging. verify.txt has one line per object:
  = kind source_id intercom_id               equal
  * kind source_id intercom_id field,field   differs in the named fields
  - kind source_id intercom_id               not in Intercom
  ! kind source_id intercom_id cause         could not be read
verify.csv counts, per kind and field, the objects compared and those that differ.
Bodies are compared as text and shown only as digests; objects are named by
source id, never by e-mail. Exit code 1 when anything differs, is missing or
could not be read.`, stdout)
	fs.StringVar(&o.db, "db", "", "staging DuckDB file written by 'd2i transform'")
	fs.StringVar(&o.intercomURL, "intercom-url", replay.BaseURLUS, "Intercom API base URL (US, EU, AU region or any URL)")
	fs.StringVar(&o.logDir, "log-dir", "", "write-log directory of the replay to verify")
	fs.StringVar(&o.out, "out", "", "directory for verify.txt and verify.csv")
	fs.IntVar(&o.sample, "sample", 0, "check only this many conversations (with their contacts and companies); 0 = all")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the --sample pick: the same seed picks the same conversations")
	fs.IntVar(&o.workers, "workers", 4, "objects read in parallel")
	fs.IntVar(&o.rate, "rate", replay.DefaultRatePerMinute, "starting pace in calls per minute; corrected from Intercom's headers")
	o.log.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	logger, token, err := intercomSession(o.log)
	if err != nil {
		return err
	}

	sum, err := replay.Verify(ctx, replay.VerifyConfig{
		DBPath: o.db, BaseURL: o.intercomURL, Token: token, LogDir: o.logDir, OutDir: o.out,
		Sample: o.sample, Seed: o.seed, Workers: o.workers, RatePerMinute: o.rate, Logger: logger,
	})
	if sum != nil {
		printVerifySummary(stdout, sum)
	}
	if err != nil {
		return err
	}
	if !sum.Clean() {
		return fmt.Errorf("staging and Intercom differ (per object in %s, per field in %s)",
			sum.TextPath, sum.CSVPath)
	}
	return nil
}

func (o *verifyOptions) validate() error {
	if o.db == "" || o.logDir == "" || o.out == "" {
		return usagef("--db, --log-dir and --out are required")
	}
	if err := requireFile(o.db, "run 'd2i transform' first"); err != nil {
		return err
	}
	if err := requireDir(o.logDir, "the replay's --log-dir"); err != nil {
		return err
	}
	if err := requireHTTPURL("--intercom-url", o.intercomURL); err != nil {
		return err
	}
	if o.workers < 1 || o.rate < 1 || o.sample < 0 {
		return usagef("--workers and --rate must be at least 1, --sample at least 0")
	}
	return nil
}

func printVerifySummary(w io.Writer, sum *replay.VerifySummary) {
	scope := "every written object"
	if sum.Sample > 0 {
		scope = fmt.Sprintf("a sample of %d conversations (seed %d) and what they depend on", sum.Sample, sum.Seed)
	}
	fmt.Fprintf(w, "verify: %s, report %s\n", scope, sum.TextPath)
	fmt.Fprintf(w, "%-20s %8s %8s %8s %8s\n", "kind", "= equal", "* differ", "- missing", "! error")
	for _, k := range []string{replay.KindCompany, replay.KindContact, replay.KindContactNote,
		replay.KindConversation, replay.KindConversationPart} {
		c := sum.Kinds[k]
		if c == nil {
			c = &replay.VerifyCounts{}
		}
		fmt.Fprintf(w, "%-20s %8d %8d %9d %8d\n", k, c.Equal, c.Differ, c.Missing, c.Errors)
	}
	for _, f := range sum.Fields {
		if f.Differ > 0 {
			fmt.Fprintf(w, "differs: %s.%s in %d of %d\n", f.Kind, f.Field, f.Differ, f.Compared)
		}
	}
}
