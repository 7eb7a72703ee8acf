package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"switchboard/internal/settings"
)

// errHelpShown is returned once a command has printed its help because it was
// asked for: Run turns it into success.
var errHelpShown = errors.New("help shown")

// commandDoc is what a command's help says above its flags.
var commandDoc = map[string]string{
	"serve": `Usage: switchboard serve [flags]

Run the HTTP server: the native /v1 API, the vendor dialects, the call engine
and the webhook dispatcher. One server runs per database: a second one on the
same database refuses to start. Prometheus metrics are served apart, on
--metrics-addr.`,
	"migrate": `Usage: switchboard migrate [flags]

Apply the database migrations not applied yet and list them. It is safe
beside a running server.`,
	"tenant create": `Usage: switchboard tenant create --slug SLUG --name NAME [flags]

Create a tenant and print it as one JSON object.`,
	"key create": `Usage: switchboard key create --tenant SLUG [flags]

Create an API key and print only its secret, so that KEY=$(switchboard key create …) works.`,
	"user create": `Usage: switchboard user create --tenant SLUG --email EMAIL [flags]

Create a user and print it as one JSON object.`,
	"user import": `Usage: switchboard user import --tenant SLUG [flags] FILE

Import users from a JSON array or a CSV file ("-" reads standard input).`,
	"seed-calls": `Usage: switchboard seed-calls --db URL [--tenant SLUG] [--rows N] [--days D] [flags]

Load a generated, realistic history of call records into a tenant (created
when missing, with its seed agents and queues) through bulk inserts, printing
progress on stderr and a JSON summary on stdout. The calls have no events and
fire no webhooks; the same flags load the same calls. 10 million rows take
minutes on SQLite.`,
	"simulate": `Usage: switchboard simulate [flags]

Run an M/M/N queue (or a scenario file) through the engine in virtual time and
print what it measured beside Erlang C.`,
	"simulate-dialer": `Usage: switchboard simulate-dialer [flags]

Run an outbound campaign through the real dialer and engine on the simulated
telephony, in virtual time: --agents agents answering at once, leads answering
at --answer-rate, --machine-rate of those answers being machines (the rest of
the dials ring out the 30 s ring time or are busy), lognormal talk times with
mean --aht less --wrap. It runs the
same campaign again with progressive pacing as the baseline, and prints both:
occupancy, abandon rate (abandoned over person-answered dials) overall and in
the worst rolling hour, connects per agent-hour, dials. Rates are fractions.`,
	"simulate-chat": `Usage: switchboard simulate-chat [flags]

Run scripted chatting end users and agents through the engine's chat routing
alone, in virtual time: end users arrive (all at once, or Poisson), write
--messages messages, each after the agent's reply to the one before, and
abandon when no agent has accepted them within --patience; agents accept
offers, reply, and finish a conversation after answering its last message.
It prints conversations, handled, abandoned, offer timeouts, mean and max
wait (arrival to acceptance), slot occupancy, the most conversations any
agent held at once, and the wall time.`,
}

// groups are the commands that take a subcommand.
var groups = map[string][]string{
	"tenant": {"create"},
	"key":    {"create"},
	"user":   {"create", "import"},
}

// parseFlags defines the command's settings on fs (beside any flags fs has),
// applies the config file, the environment and args, and validates them.
// Asked for help, it prints the command's help to stdout and returns
// errHelpShown; a mistake in the flags is a usageError pointing at the help.
func (m *Main) parseFlags(fs *flag.FlagSet, args []string, dbOnly bool) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := m.Config.load(fs, args, dbOnly, m.Getenv)
	return m.flagError(fs, err)
}

// parseOnly parses args into fs's own flags, for commands without settings.
func (m *Main) parseOnly(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if settings.WantsHelp(args) {
		return m.flagError(fs, flag.ErrHelp)
	}
	return m.flagError(fs, fs.Parse(args))
}

func (m *Main) flagError(fs *flag.FlagSet, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		m.printCommandHelp(fs)
		return errHelpShown
	}
	return usageError{fmt.Errorf("%w\nRun \"switchboard %s -h\" for its flags.", err, fs.Name())}
}

// printCommandHelp writes the command's help and its flags to stdout.
func (m *Main) printCommandHelp(fs *flag.FlagSet) {
	doc := commandDoc[fs.Name()]
	if doc == "" {
		doc = "Usage: switchboard " + fs.Name() + " [flags]"
	}
	fmt.Fprintf(m.Stdout, "%s\n\nFlags:\n", doc)
	fs.SetOutput(m.Stdout)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprintln(m.Stdout, "\nEvery flag can also be set with its SWITCHBOARD_* environment variable or in\n"+
		"the JSON --config file; flags win over the environment, which wins over the file.")
}

// groupHelp is the help of a command that takes a subcommand.
func groupHelp(group string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: switchboard %s SUBCOMMAND [flags]\n\nSubcommands:\n", group)
	for _, sub := range groups[group] {
		doc := commandDoc[group+" "+sub]
		if _, rest, ok := strings.Cut(doc, "\n\n"); ok {
			doc = strings.SplitN(rest, "\n", 2)[0]
		}
		fmt.Fprintf(&b, "  %-8s %s\n", sub, doc)
	}
	fmt.Fprintf(&b, "\nRun \"switchboard %s SUBCOMMAND -h\" for its flags.\n", group)
	return b.String()
}
