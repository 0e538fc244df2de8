package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// usageError marks a mistake in how d2i was called, reported with exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// logOptions are the flags every verb shares.
type logOptions struct {
	level  string
	format string
}

func (o *logOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.level, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.format, "log-format", "text", "log format: text or json")
}

func (o *logOptions) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.level)); err != nil {
		return nil, usagef("--log-level %q: %v", o.level, err)
	}
	handlerOpts := &slog.HandlerOptions{Level: level}

	switch strings.ToLower(o.format) {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, handlerOpts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, handlerOpts)), nil
	default:
		return nil, usagef("--log-format %q: want text or json", o.format)
	}
}

// newFlagSet builds a verb's flag set whose --help shows a usage line, an
// example and the exit codes.
func newFlagSet(name, usage, example string, out io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(out)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: d2i %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
		fmt.Fprintf(out, "\nExample:\n%s\n\n%s", example, exitCodesHelp)
	}
	return fs
}

// parseFlags parses args and turns a flag mistake into a usage error.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}
