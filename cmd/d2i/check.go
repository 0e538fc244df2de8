package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"

	"github.com/d2i/d2i/replay"
)

// requireFile turns a missing input file into a usage error that says how
// to make it, instead of the error of whatever library opens it first.
func requireFile(path, hint string) error {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return usagef("%s does not exist: %s", path, hint)
	case err != nil:
		return usagef("%s: %v", path, err)
	case info.IsDir():
		return usagef("%s is a directory, want a file", path)
	}
	return nil
}

// requireDir guards the verbs that read a directory another verb wrote, so a
// typo is not taken for an empty run.
func requireDir(path, what string) error {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return usagef("%s does not exist; want %s", path, what)
	case err != nil:
		return usagef("%s: %v", path, err)
	case !info.IsDir():
		return usagef("%s is not a directory; want %s", path, what)
	}
	return nil
}

func requireHTTPURL(flag, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("%s %q: want an http(s) URL such as https://api.intercom.io", flag, raw)
	}
	return nil
}

// asUsageIfLocked reports a write log held by another replay or rollback as
// a usage error: nothing was done, and rerunning later is the fix.
func asUsageIfLocked(err error) error {
	var locked *replay.LockedError
	if errors.As(err, &locked) {
		return usageError{locked.Error()}
	}
	return err
}

// intercomSession is what every verb that talks to Intercom needs before it
// starts: a logger, and the token from the environment (never a flag).
func intercomSession(log logOptions) (*slog.Logger, string, error) {
	logger, err := log.logger()
	if err != nil {
		return nil, "", err
	}
	token, err := replay.TokenFromEnv()
	if err != nil {
		return nil, "", usagef("%v", err)
	}
	return logger, token, nil
}

// printRunHeader names a replay or rollback run and its write log.
func printRunHeader(w io.Writer, verb, runID string, dryRun bool, logPath string) {
	mode := ""
	if dryRun {
		mode = " (dry run)"
	}
	if logPath == "" {
		logPath = "none (nothing to write)"
	}
	fmt.Fprintf(w, "%s run %s%s, write log %s\n", verb, runID, mode, logPath)
}
