// Package switchboard is the domain vocabulary of the Switchboard contact-center
// platform: tenants, users (agents), teams, skills, agent statuses, queues, phone
// numbers, API keys and the events that every state change leaves behind.
//
// The package imports only the standard library. Adapters live under internal/ and
// are named for what they wrap (sqlstore for the SQL databases, httpapi for the
// shared HTTP plumbing, native for the /v1 API); they meet here, through the types
// and the Store contract declared in this package.
package switchboard

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the version of the Switchboard binary; the build may override it
// with -ldflags "-X switchboard.Version=…".
var Version = "0.1.0-dev"

// BuildInfo says what this binary is: Version, the VCS commit it was built
// from ("unknown" when the build recorded none, e.g. under go run or outside a
// checkout, "+dirty" when the tree had uncommitted changes) and the Go
// version, as "0.1.0 (commit 1a2b…, go1.24.1)".
func BuildInfo() string {
	commit, dirty := "unknown", false
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if dirty {
		commit += "+dirty"
	}
	return fmt.Sprintf("%s (commit %s, %s)", Version, commit, runtime.Version())
}
