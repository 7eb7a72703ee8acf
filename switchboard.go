// Package switchboard is the domain vocabulary of the Switchboard contact-center
// platform: tenants, users (agents), teams, skills, agent statuses, queues, phone
// numbers, API keys and the events that every state change leaves behind.
//
// The package imports only the standard library. Adapters live under internal/ and
// are named for what they wrap (sqlstore for the SQL databases, httpapi for the
// shared HTTP plumbing, native for the /v1 API); they meet here, through the types
// and the Store contract declared in this package.
package switchboard

// Version is the version of the Switchboard binary; the build may override it
// with -ldflags "-X switchboard.Version=…".
var Version = "0.1.0-dev"
