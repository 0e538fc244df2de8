package main

import (
	"testing"

	"github.com/d2i/d2i/replay/intercomtest"
)

// newIntercom starts the Intercom emulator for a command test: every
// request is checked against the OpenAPI description, and the test fails
// if the workspace would have notified a customer.
func newIntercom(t *testing.T, o intercomtest.Options) *intercomtest.Server {
	t.Helper()
	o.Validate = true
	srv := intercomtest.NewServer(o)
	t.Cleanup(func() {
		if n := srv.Notifications(); n != 0 {
			t.Errorf("the emulator counted %d customer notifications: %+v", n, srv.NotificationLog())
		}
		srv.Close()
	})
	return srv
}
