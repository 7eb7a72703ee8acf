package siptest

import (
	"bytes"
	"context"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"
)

//go:embed testdata/*.xml
var scenarios embed.FS

// Scenarios in testdata, each written for sipp 3.6.1.
const (
	// ScenarioCaller is a carrier's call into a DID ([service]): INVITE,
	// ACK the 200, play Audio, BYE after Vars["talk_ms"]; without Audio and
	// talk_ms it is the signalling-only call of the load benchmark.
	// Vars["sdp_port"] overrides the RTP port it offers.
	ScenarioCaller = "uac_call.xml"
	// ScenarioCancel is a caller who CANCELs Vars["ring_ms"] after the 180.
	ScenarioCancel = "uac_cancel.xml"
	// ScenarioRegister registers each user of Users with digest auth; see
	// AgentUsers.
	ScenarioRegister = "register.xml"
	// ScenarioAgent answers after Vars["ring_ms"], plays Audio, waits for
	// BYE; Vars["sdp_port"] overrides the RTP port it advertises.
	ScenarioAgent = "uas_agent.xml"
	// ScenarioRing rings until CANCEL and answers it with 487.
	ScenarioRing = "uas_ring.xml"
	// ScenarioAuthUAS challenges the INVITE with 401 and answers only a
	// digest of Vars["username"] and Vars["password"].
	ScenarioAuthUAS = "uas_auth.xml"
)

// Sipp is one sipp run. Zero fields take sipp's defaults where it has them.
type Sipp struct {
	// Scenario names a file of testdata (one of the Scenario constants). Its
	// text is a Go template: {{.Audio}} is the path of the capture Audio
	// generates, {{index .Vars "k"}} one of Vars.
	Scenario string
	Vars     map[string]string
	// Audio, when set, is written to a pcap file that {{.Audio}} names.
	Audio *Audio
	// Remote is the host:port the scenario sends to (empty for a UAS).
	Remote string
	// Port is the local SIP port (-p); 0 picks a free one.
	Port int
	// MediaPort is the local RTP port (-mp); 0 picks a free one.
	MediaPort int
	// Service is the Request-URI user (-s).
	Service string
	// Calls stops sipp after this many calls (-m).
	Calls int
	// Rate is the calls per second a UAC starts (-r) and Limit the most
	// calls in flight (-l).
	Rate  float64
	Limit int
	// Timeout bounds the whole run (-timeout with -timeout_error, so reaching
	// it is a failure); the context bounds it too.
	Timeout time.Duration
	// Users are the rows of the -inf file (read SEQUENTIAL): field0, field1...
	Users [][]string
	// Keys are -key keyword value pairs, [keyword] in the scenario.
	Keys map[string]string
	// Username and Password answer digest challenges (-au, -ap) in scenarios
	// that send [authentication].
	Username, Password string
	// Args are appended to the command line as they are.
	Args []string
}

// Result is what a finished sipp run reports.
type Result struct {
	// ExitCode is sipp's: 0 every call succeeded, 1 at least one failed,
	// 97 stopped by an internal command, 99 ended normally with no call
	// processed, 255 (-1) a fatal error, 254 (-2) a socket it could not bind.
	ExitCode int
	// From the final row of the statistics file (cumulative counts).
	Successful, Failed, Retransmissions, Outgoing, Incoming int
	Elapsed                                                 time.Duration
	// Dir holds the run's files: scenario, stats, screen, error log.
	Dir    string
	Errors string // the -trace_err log: unexpected messages, with the SIP
	Screen string // the last statistics screen
	Stderr string
}

// SippProc is a sipp run in progress.
type SippProc struct {
	s       Sipp
	cmd     *exec.Cmd
	dir     string
	started time.Time
	done    chan struct{}
	stderr  bytes.Buffer
	err     error
}

// Start starts sipp; it ends with ctx, when its calls are done, or at
// Timeout. The run's files go to a directory under t's temporary directory.
func (s Sipp) Start(ctx context.Context, t testing.TB) *SippProc {
	t.Helper()
	Require(t, SippBinary)
	dir, err := os.MkdirTemp(t.TempDir(), "sipp-")
	if err != nil {
		t.Fatal(err)
	}
	args, err := s.args(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	p := &SippProc{s: s, dir: dir, done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, SippBinary, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout = nil
	p.cmd.Stderr = &p.stderr
	p.cmd.WaitDelay = 2 * time.Second
	if err := os.WriteFile(filepath.Join(dir, "cmdline"), []byte(SippBinary+" "+strings.Join(args, " ")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start sipp: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.cmd.Process != nil {
			p.cmd.Process.Kill()
		}
		<-p.done
	})
	return p
}

// Run runs sipp to the end and returns its result.
func (s Sipp) Run(ctx context.Context, t testing.TB) Result {
	t.Helper()
	return s.Start(ctx, t).Wait()
}

// Port is the local SIP port the run listens on.
func (p *SippProc) Port() int { return p.s.Port }

// Pid is the sipp process's id (its CPU use is the load generator's).
func (p *SippProc) Pid() int { return p.cmd.Process.Pid }

// MediaPort is the local RTP port of the run.
func (p *SippProc) MediaPort() int { return p.s.MediaPort }

// Stop ends the run (SIGTERM, as a UAS waiting for calls ends) and returns
// its result.
func (p *SippProc) Stop() Result {
	select {
	case <-p.done:
	default:
		if p.cmd.Process != nil {
			p.cmd.Process.Signal(os.Interrupt)
		}
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			p.cmd.Process.Kill()
		}
	}
	return p.Wait()
}

// Done is closed when sipp has exited.
func (p *SippProc) Done() <-chan struct{} { return p.done }

// Wait waits for sipp to exit and reads its files.
func (p *SippProc) Wait() Result {
	<-p.done
	r := Result{Dir: p.dir, Elapsed: time.Since(p.started), Stderr: p.stderr.String(), ExitCode: p.cmd.ProcessState.ExitCode()}
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		r.Stderr += "\n" + p.err.Error()
	}
	if b, err := os.ReadFile(filepath.Join(p.dir, "errors.log")); err == nil {
		r.Errors = string(b)
	}
	if b, err := os.ReadFile(filepath.Join(p.dir, "screen.log")); err == nil {
		s := string(b)
		// Keep only the last screen: screens are separated by a form feed
		// or start with a "----" rule; the tail is enough to read.
		if len(s) > 6000 {
			s = s[len(s)-6000:]
		}
		r.Screen = s
	}
	if b, err := os.ReadFile(filepath.Join(p.dir, "stats.csv")); err == nil {
		if err := r.parseStats(b); err != nil {
			r.Stderr += "\n" + err.Error()
		}
	}
	return r
}

// parseStats reads the cumulative counters from the last row of sipp's
// -trace_stat file (';'-separated, with a header row).
func (r *Result) parseStats(b []byte) error {
	rd := csv.NewReader(bytes.NewReader(b))
	rd.Comma = ';'
	rd.FieldsPerRecord = -1
	rd.LazyQuotes = true
	rows, err := rd.ReadAll()
	if err != nil {
		return fmt.Errorf("siptest: sipp statistics: %w", err)
	}
	if len(rows) < 2 {
		return errors.New("siptest: sipp statistics have no data row")
	}
	head, last := rows[0], rows[len(rows)-1]
	get := func(name string) int {
		for i, h := range head {
			if h == name && i < len(last) {
				n, _ := strconv.Atoi(strings.TrimSpace(last[i]))
				return n
			}
		}
		return 0
	}
	r.Successful = get("SuccessfulCall(C)")
	r.Failed = get("FailedCall(C)")
	r.Retransmissions = get("Retransmissions(C)")
	r.Outgoing = get("OutgoingCall(C)")
	r.Incoming = get("IncomingCall(C)")
	return nil
}

// String summarises the run for a test's failure message, with the
// unexpected messages sipp logged.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sipp exit %d after %v: %d successful, %d failed, %d retransmissions (files in %s)",
		r.ExitCode, r.Elapsed.Round(time.Millisecond), r.Successful, r.Failed, r.Retransmissions, r.Dir)
	if e := strings.TrimSpace(r.Errors); e != "" {
		if len(e) > 4000 {
			e = e[:4000] + "\n..."
		}
		fmt.Fprintf(&b, "\nunexpected messages (-trace_err):\n%s", e)
	}
	if e := strings.TrimSpace(r.Stderr); e != "" {
		fmt.Fprintf(&b, "\nstderr: %.2000s", e)
	}
	return b.String()
}

// args builds the command line and writes the scenario, capture and user
// files into dir.
func (s *Sipp) args(t testing.TB, dir string) ([]string, error) {
	if s.Port == 0 {
		s.Port = FreeUDPPort(t)
	}
	if s.MediaPort == 0 {
		s.MediaPort = FreeUDPRange(t, 4)
	}
	var args []string
	switch {
	case strings.HasPrefix(s.Scenario, "sn:"):
		args = append(args, "-sn", strings.TrimPrefix(s.Scenario, "sn:"))
	default:
		text, err := scenarios.ReadFile("testdata/" + s.Scenario)
		if err != nil {
			return nil, fmt.Errorf("siptest: scenario %q: %w", s.Scenario, err)
		}
		data := struct {
			Audio string
			Vars  map[string]string
		}{Vars: s.Vars}
		if s.Audio != nil {
			data.Audio = filepath.Join(dir, "audio.pcap")
			if err := s.Audio.WritePCAP(data.Audio); err != nil {
				return nil, err
			}
		}
		tmpl, err := template.New(s.Scenario).Option("missingkey=error").Parse(string(text))
		if err != nil {
			return nil, fmt.Errorf("siptest: scenario %q: %w", s.Scenario, err)
		}
		var out bytes.Buffer
		if err := tmpl.Execute(&out, data); err != nil {
			return nil, fmt.Errorf("siptest: scenario %q: %w", s.Scenario, err)
		}
		path := filepath.Join(dir, "scenario.xml")
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			return nil, err
		}
		args = append(args, "-sf", path)
	}
	if s.Remote != "" {
		args = append(args, s.Remote)
	}
	args = append(args, "-i", "127.0.0.1", "-p", strconv.Itoa(s.Port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(s.MediaPort), "-nostdin",
		"-trace_stat", "-stf", filepath.Join(dir, "stats.csv"), "-fd", "1",
		"-trace_screen", "-screen_file", filepath.Join(dir, "screen.log"),
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"))
	if s.Service != "" {
		args = append(args, "-s", s.Service)
	}
	if s.Calls > 0 {
		args = append(args, "-m", strconv.Itoa(s.Calls))
	}
	if s.Rate > 0 {
		args = append(args, "-r", strconv.FormatFloat(s.Rate, 'f', -1, 64))
	}
	if s.Limit > 0 {
		args = append(args, "-l", strconv.Itoa(s.Limit))
	}
	if s.Timeout > 0 {
		args = append(args, "-timeout", fmt.Sprintf("%dms", s.Timeout.Milliseconds()), "-timeout_error")
	}
	if s.Username != "" {
		args = append(args, "-au", s.Username)
	}
	if s.Password != "" {
		args = append(args, "-ap", s.Password)
	}
	if len(s.Users) > 0 {
		var b strings.Builder
		b.WriteString("SEQUENTIAL\n")
		for _, row := range s.Users {
			b.WriteString(strings.Join(row, ";"))
			b.WriteString("\n")
		}
		path := filepath.Join(dir, "users.csv")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			return nil, err
		}
		args = append(args, "-inf", path)
	}
	for k, v := range s.Keys {
		args = append(args, "-key", k, v)
	}
	return append(args, s.Args...), nil
}

// AgentUsers are the -inf rows ScenarioRegister reads: each SIP username
// with its digest credentials.
func AgentUsers(passwords map[string]string) [][]string {
	users := make([]string, 0, len(passwords))
	for u := range passwords {
		users = append(users, u)
	}
	sort.Strings(users)
	rows := make([][]string, 0, len(passwords))
	for _, u := range users {
		rows = append(rows, []string{u, fmt.Sprintf("[authentication username=%s password=%s]", u, passwords[u])})
	}
	return rows
}
