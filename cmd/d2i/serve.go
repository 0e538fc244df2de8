package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/d2i/d2i/replay/intercomtest"
	"github.com/d2i/d2i/snapshot/dataversetest"
	"github.com/d2i/d2i/snapshot/dataversetest/sampleorg"
)

type serveOptions struct {
	listen string
	seed   int64
	cases  int
	budget int
	// omnichannel gives the org conversations, sessions, transcripts and
	// recordings (msdyn_ tables); without it they are absent, as in most orgs.
	omnichannel bool
	log         logOptions
}

func runServe(ctx context.Context, args []string, stdout io.Writer) error {
	var o serveOptions
	fs := newFlagSet("serve", "serve dataverse|intercom --listen ADDR [flags]",
		`  d2i serve dataverse --listen 127.0.0.1:8081 --cases 2000 &
  d2i serve intercom --listen 127.0.0.1:8082 &
  D2I_DATAVERSE_TENANT_ID=t D2I_DATAVERSE_CLIENT_ID=c D2I_DATAVERSE_CLIENT_SECRET=s \
    d2i snapshot --org-url http://127.0.0.1:8081 --authority-url http://127.0.0.1:8081 --out snap

The Dataverse emulator serves a generated org of --seed and --cases and accepts any
client credentials; the Intercom emulator accepts any bearer token and holds the
admins and teams of the same generated org, so that a replay of it matches them.`, stdout)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the generated org")
	fs.IntVar(&o.cases, "cases", 2000, "cases in the generated org")
	fs.BoolVar(&o.omnichannel, "omnichannel", false, "give the org Omnichannel conversations, sessions, transcripts and voice recordings")
	fs.IntVar(&o.budget, "budget", 0, "requests allowed per throttling window before 429 (0: the emulator's default)")
	o.log.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "dataverse" && fs.Arg(0) != "intercom") {
		return usagef("want exactly one emulator: dataverse or intercom")
	}
	if o.cases < 1 {
		return usagef("--cases must be at least 1")
	}
	logger, err := o.log.logger()
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usagef("listen on %s: %v", o.listen, err)
	}
	defer l.Close()

	org, err := sampleorg.New(sampleorg.Options{Seed: o.seed, Cases: o.cases, Omnichannel: o.omnichannel})
	if err != nil {
		return fmt.Errorf("generate org: %w", err)
	}
	base := "http://" + o.listen

	var handler http.Handler
	if fs.Arg(0) == "dataverse" {
		srv := dataversetest.NewUnstarted(org, dataversetest.Options{RequestsPerWindow: o.budget})
		srv.URL = base
		handler = srv.Handler()
		fmt.Fprintf(stdout, "Dataverse emulator: org URL %s, Web API %s\n", base, srv.APIURL())
	} else {
		srv := intercomtest.New(intercomOptions(org, o.budget))
		handler = srv.Handler()
		fmt.Fprintf(stdout, "Intercom emulator: %s (any bearer token is accepted)\n", base)
	}
	return serveOn(ctx, l, handler, logger)
}

// intercomOptions seeds the Intercom emulator with the org's agents and
// queues, because teams and admins cannot be created through Intercom's API.
func intercomOptions(org *sampleorg.Org, per10s int) intercomtest.Options {
	opts := intercomtest.Options{Validate: true, RequestsPer10s: per10s}
	for i, u := range org.SystemUsers() {
		if u.Email == "" {
			continue
		}
		opts.Admins = append(opts.Admins, intercomtest.Admin{
			ID: fmt.Sprint(7100000 + i), Name: u.FullName, Email: u.Email})
	}
	for i, name := range queueNames(org) {
		opts.Teams = append(opts.Teams, intercomtest.Team{ID: fmt.Sprint(8100000 + i), Name: name})
	}
	return opts
}

func queueNames(org *sampleorg.Org) []string {
	var names []string
	for i := range org.Count("queue") {
		row, err := org.Row("queue", i)
		if err != nil {
			continue
		}
		if name, ok := row["name"].(string); ok && name != "" {
			names = append(names, name)
		}
	}
	return names
}

func serveOn(ctx context.Context, l net.Listener, h http.Handler, logger *slog.Logger) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}

	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()

	logger.Info("serving", "addr", l.Addr().String(), "pid", os.Getpid())
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", l.Addr(), err)
	}
	return nil
}
