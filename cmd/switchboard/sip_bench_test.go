package main

// Benchmarks of the SIP driver (issue 13), run by bench/sip.sh against the
// built binary as a separate process, so its CPU and memory are its own:
//
//   - BenchmarkSIPSignalling: calls per second through the B2BUA (a carrier
//     sipp to a DID, a queue of sipp agents, no media) against a bare sipgo
//     UAS answering directly (TestBareUAS in internal/sip), the same sipp
//     scenario closed-loop with 50 calls in flight, rounds alternating;
//     target ratio >= 0.6.
//   - BenchmarkSIPMedia: 250, 500 and 1,000 concurrent bridged and recorded
//     calls, G.711 both ways (Go RTP probes stand in for the carrier's and
//     the agents' media: one streams a tone, the other measures and echoes
//     it), with the server's CPU and RSS and the loss and jitter measured
//     at both ends; target 1,000 calls with under 1 % loss.
//
// Both need SWITCHBOARD_BIN (the switchboard binary); the signalling one also
// SWITCHBOARD_SIP_BARE_UAS_BIN (internal/sip's test binary). They skip
// without them.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/internal/siptest"
)

// benchServer is the switchboard binary serving with the SIP driver.
type benchServer struct {
	tb   testing.TB
	cmd  *exec.Cmd
	pid  int
	base string
	key  string
	sip  string
	log  *syncBuffer
	ext  int
}

func startBenchServer(tb testing.TB, rtpPorts int) *benchServer {
	tb.Helper()
	bin := os.Getenv("SWITCHBOARD_BIN")
	if bin == "" {
		tb.Skip("SWITCHBOARD_BIN is not set; bench/sip.sh builds the binary and sets it")
	}
	siptest.Require(tb, siptest.SippBinary)
	db := "sqlite:" + filepath.Join(tb.TempDir(), "bench.db")
	runBin := func(args ...string) string {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			tb.Fatalf("switchboard %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	runBin("migrate", "--db", db)
	runBin("tenant", "create", "--db", db, "--slug", "acme", "--name", "Acme")
	key := runBin("key", "create", "--db", db, "--tenant", "acme")
	httpPort, sipPort := siptest.FreeTCPPort(tb), siptest.FreeUDPPort(tb)
	lo := siptest.FreeUDPRange(tb, rtpPorts)
	s := &benchServer{tb: tb, key: key, base: fmt.Sprintf("http://127.0.0.1:%d", httpPort), sip: fmt.Sprintf("127.0.0.1:%d", sipPort),
		log: &syncBuffer{}, ext: 1001}
	s.cmd = exec.Command(bin, "serve", "--db", db, "--addr", fmt.Sprintf("127.0.0.1:%d", httpPort), "--metrics-addr", "",
		"--log-level", "warn", "--rate-limit", "0", "--tenant-write-rate", "0",
		"--telephony", "sip", "--sip-listen", "udp:"+s.sip, "--rtp-ports", fmt.Sprintf("%d-%d", lo, lo+rtpPorts-1))
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s.pid = s.cmd.Process.Pid
	tb.Cleanup(func() {
		s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
		if tb.Failed() {
			tb.Logf("server log (tail):\n%s", tail(s.log.String(), 6000))
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if res, err := http.Get(s.base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the server did not come up:\n%s", s.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

func (s *benchServer) do(method, path string, body any) (int, map[string]any) {
	s.tb.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.tb.Fatal(err)
	}
	defer res.Body.Close()
	var v map[string]any
	json.NewDecoder(res.Body).Decode(&v)
	return res.StatusCode, v
}

// setup creates n signed-in agents in a queue behind a DID, declares
// 127.0.0.1 a carrier, and registers the agents' phones from one sipp on
// port; it returns the agents' extensions.
func (s *benchServer) setup(ctx context.Context, n int, did string, port int) {
	s.tb.Helper()
	if status, v := s.do("POST", "/v1/trunks", map[string]any{"name": "carrier", "inbound_addresses": []string{"127.0.0.1/32"}}); status != 201 {
		s.tb.Fatalf("POST /v1/trunks: %d %v", status, v)
	}
	status, q := s.do("POST", "/v1/queues", map[string]any{"name": "Bench", "extension": "8001", "strategy": "leastrecent",
		"wrap_up_seconds": 0, "timeout_seconds": 30, "retry_seconds": 1, "join_empty": true})
	if status != 201 {
		s.tb.Fatalf("POST /v1/queues: %d %v", status, q)
	}
	qid := int64(num(q["id"]))
	if status, v := s.do("POST", "/v1/phone_numbers", map[string]any{"number": did, "queue_id": qid}); status != 201 {
		s.tb.Fatalf("POST /v1/phone_numbers: %d %v", status, v)
	}
	pw := map[string]string{}
	for range n {
		ext := strconv.Itoa(s.ext)
		s.ext++
		status, u := s.do("POST", "/v1/users", map[string]any{"email": "a" + ext + "@acme.test", "first_name": "A" + ext,
			"extension": ext, "sip_password": "pw" + ext})
		if status != 201 {
			s.tb.Fatalf("POST /v1/users: %d %v", status, u)
		}
		id := int64(num(u["id"]))
		s.do("POST", fmt.Sprintf("/v1/queues/%d/members", qid), map[string]any{"user_id": id})
		s.do("POST", fmt.Sprintf("/v1/users/%d/status", id), map[string]any{"status": "Available"})
		pw[ext] = "pw" + ext
	}
	reg := siptest.Sipp{Scenario: siptest.ScenarioRegister, Remote: s.sip, Port: port, Calls: n, Rate: 200, Limit: 50,
		Users: siptest.AgentUsers(pw), Timeout: 60 * time.Second}.Run(ctx, s.tb)
	if reg.Successful != n {
		s.tb.Fatalf("agents' REGISTER: %v", reg)
	}
}

// cpu is the process's user+system CPU time so far.
func cpu(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// rss is the process's resident set and its peak, in MB.
func rss(pid int) (now, peak float64) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "VmRSS:":
				now = kb / 1024
			case "VmHWM:":
				peak = kb / 1024
			}
		}
	}
	return now, peak
}

// BenchmarkSIPSignalling: see the file comment. Each round runs calls
// closed-loop (50 in flight, started as fast as they finish) and reports
// calls per second; b.N is ignored (run with -benchtime 1x).
func BenchmarkSIPSignalling(b *testing.B) {
	bare := os.Getenv("SWITCHBOARD_SIP_BARE_UAS_BIN")
	if bare == "" {
		b.Skip("SWITCHBOARD_SIP_BARE_UAS_BIN is not set; bench/sip.sh builds internal/sip's test binary and sets it")
	}
	calls := envInt("SWITCHBOARD_SIP_BENCH_CALLS", 3000)
	rounds := envInt("SWITCHBOARD_SIP_BENCH_ROUNDS", 3)
	const inFlight, agents = 50, 120
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	s := startBenchServer(b, 2000)
	agentPort := siptest.FreeUDPPort(b)
	s.setup(ctx, agents, "+15550001234", agentPort)
	// The agents answer at once with SDP and no media, for every round.
	phones := siptest.Sipp{Scenario: siptest.ScenarioAgent, Port: agentPort, Calls: 1 << 30, Limit: 1 << 20}.Start(ctx, b)
	defer phones.Stop()

	barePort := siptest.FreeUDPPort(b)
	uas := exec.CommandContext(ctx, bare, "-test.run", "^TestBareUAS$")
	uas.Env = append(os.Environ(), "SWITCHBOARD_SIP_BARE_UAS=127.0.0.1:"+strconv.Itoa(barePort))
	if err := uas.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { uas.Process.Signal(os.Interrupt); uas.Wait() }()
	time.Sleep(500 * time.Millisecond)

	run := func(target, service string, pid int) (cps, cpuPerCall float64, res siptest.Result) {
		c0 := cpu(pid)
		res = siptest.Sipp{Scenario: siptest.ScenarioCaller, Remote: target, Service: service, Calls: calls, Rate: 100000, Limit: inFlight,
			Timeout: 5 * time.Minute}.Run(ctx, b)
		if res.Elapsed > 0 {
			cps = float64(res.Successful) / res.Elapsed.Seconds()
		}
		if res.Successful > 0 {
			cpuPerCall = float64((cpu(pid) - c0).Microseconds()) / float64(res.Successful)
		}
		return cps, cpuPerCall, res
	}
	var bareCPS, b2buaCPS []float64
	for r := range rounds {
		bc, bcpu, bres := run("127.0.0.1:"+strconv.Itoa(barePort), "15550001234", uas.Process.Pid)
		sc, scpu, sres := run(s.sip, "15550001234", s.pid)
		bareCPS, b2buaCPS = append(bareCPS, bc), append(b2buaCPS, sc)
		fmt.Printf("round %d: bare sipgo UAS %7.0f calls/s (%d failed, %d retrans, %.0f µs CPU/call)  B2BUA %7.0f calls/s (%d failed, %d retrans, %.0f µs CPU/call)  ratio %.2f\n",
			r+1, bc, bres.Failed, bres.Retransmissions, bcpu, sc, sres.Failed, sres.Retransmissions, scpu, sc/bc)
		if sres.Failed > 0 {
			b.Logf("B2BUA round %d: %v", r+1, sres)
		}
	}
	bm, sm := median(bareCPS), median(b2buaCPS)
	b.ReportMetric(bm, "bare-calls/s")
	b.ReportMetric(sm, "b2bua-calls/s")
	b.ReportMetric(sm/bm, "ratio")
	fmt.Printf("signalling: B2BUA %.0f calls/s, bare sipgo UAS %.0f calls/s (medians of %d rounds): ratio %.2f (target >= 0.6)\n", sm, bm, rounds, sm/bm)
}

// BenchmarkSIPMedia: see the file comment. Levels come from
// SWITCHBOARD_SIP_MEDIA_LEVELS (default "250,500,1000"). sipp does the
// signalling only; the media are two Go RTP probes, because a sipp thread
// per call playing a capture saturates 2 cores long before the server does:
// the carriers' calls offer the caller probe, which sipp tells the answer's
// RTP port ("kick", one bash per call) and which then streams a tone there;
// the agents' answers offer the agent probe, which measures what the relay
// brings and echoes it back, which the caller probe then measures in turn.
func BenchmarkSIPMedia(b *testing.B) {
	levels := []int{250, 500, 1000}
	if v := os.Getenv("SWITCHBOARD_SIP_MEDIA_LEVELS"); v != "" {
		levels = levels[:0]
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("SWITCHBOARD_SIP_MEDIA_LEVELS: %q", v)
			}
			levels = append(levels, n)
		}
	}
	most := 0
	for _, n := range levels {
		most = max(most, n)
	}
	rampCPS := envInt("SWITCHBOARD_SIP_MEDIA_RAMP_CPS", 50)
	hold := time.Duration(envInt("SWITCHBOARD_SIP_MEDIA_HOLD_SECONDS", 15)) * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	// Four ports a call (two legs, RTP and RTCP each), with the slack a
	// real range has: diago hands ports out from a rotating offset without
	// wrapping round, so a range only just big enough makes it scan long
	// runs of busy ports and refuse calls near its end (the serve default
	// is 10,000 ports).
	s := startBenchServer(b, max(10000, 8*most))
	agentPort := siptest.FreeUDPPort(b)
	s.setup(ctx, most, "+15550001234", agentPort)
	callerProbe := siptest.NewRTPProbe(b, siptest.ProbeSend)
	agentProbe := siptest.NewRTPProbe(b, siptest.ProbeEcho)
	phones := siptest.Sipp{Scenario: siptest.ScenarioAgent, Port: agentPort, Calls: 1 << 30, Limit: 1 << 20,
		Vars: map[string]string{"sdp_port": strconv.Itoa(agentProbe.Port())}}.Start(ctx, b)
	defer phones.Stop()
	ended := 0
	for _, n := range levels {
		ramp := time.Duration(n) * time.Second / time.Duration(rampCPS)
		talk := ramp + hold + 3*time.Second
		seen := map[string]bool{}
		for _, p := range []*siptest.RTPProbe{callerProbe, agentProbe} {
			for _, st := range p.Streams() {
				seen[fmt.Sprint(st.Source, st.SSRC)] = true
			}
		}
		caller := siptest.Sipp{Scenario: siptest.ScenarioCaller, Remote: s.sip, Service: "15550001234", Calls: n, Rate: float64(rampCPS), Limit: n,
			Vars: map[string]string{"talk_ms": strconv.Itoa(int(talk.Milliseconds())), "sdp_port": strconv.Itoa(callerProbe.Port()),
				"kick": strconv.Itoa(callerProbe.Port())},
			Timeout: talk + ramp + time.Minute}.Start(ctx, b)
		// Measure once every call is up, for the hold.
		time.Sleep(ramp + 3*time.Second)
		pids := map[string]int{"server": s.pid, "sipp-carrier": caller.Pid(), "sipp-agents": phones.Pid(), "probes": os.Getpid()}
		c0 := map[string]time.Duration{}
		for k, pid := range pids {
			c0[k] = cpu(pid)
		}
		rcvbuf0 := udpRcvbufErrors()
		cs0, cr0 := callerProbe.Counts()
		as0, ar0 := agentProbe.Counts()
		t0 := time.Now()
		time.Sleep(hold - 2*time.Second)
		cs1, cr1 := callerProbe.Counts()
		as1, ar1 := agentProbe.Counts()
		peers := callerProbe.Peers()
		rcvbuf := udpRcvbufErrors() - rcvbuf0
		// Through the relay over the window: what one probe sent against
		// what the other received (a call not bridged by then counts as
		// loss, since what its caller sends reaches no agent).
		fwdWin := windowLoss(cs1-cs0, ar1-ar0)
		backWin := windowLoss(as1-as0, cr1-cr0)
		share := map[string]float64{}
		for k, pid := range pids {
			share[k] = 100 * (cpu(pid) - c0[k]).Seconds() / time.Since(t0).Seconds()
		}
		rssNow, rssPeak := rss(s.pid)
		inCall := s.connected()
		res := caller.Wait()
		ended += n
		fwd, back := measure(agentProbe, seen), measure(callerProbe, seen)
		recorded := 0
		for _, c := range s.cdrsAfter(ctx, ended) {
			if c["recorded"] == true && c["disposition"] == "answered" {
				recorded++
			}
		}
		verdict := ""
		if n == 1000 {
			met := fwdWin < 1 && backWin < 1 && fwd.loss < 1 && back.loss < 1 && res.Failed == 0 && inCall >= 990
			verdict = fmt.Sprintf(" [target 1,000 calls under 1 %% loss: %s]", map[bool]string{true: "met", false: "missed"}[met])
		}
		fmt.Printf("media %4d calls: %4d connected during the hold, %d failed, %d SIP retransmissions; CPU %% of a core: server %.0f, sipp carrier %.0f, sipp agents %.0f, probes %.0f; server RSS %.0f MB (peak %.0f)\n",
			n, inCall, res.Failed, res.Retransmissions, share["server"], share["sipp-carrier"], share["sipp-agents"], share["probes"], rssNow, rssPeak)
		fmt.Printf("           through the relay during the hold: caller->agent %.3f%% lost (%d of %d, to %d server legs), agent->caller %.3f%% lost (%d of %d); the kernel dropped %d UDP datagrams for full receive buffers (all sockets)\n",
			fwdWin, (cs1-cs0)-(ar1-ar0), cs1-cs0, peers, backWin, (as1-as0)-(cr1-cr0), as1-as0, rcvbuf)
		fmt.Printf("           per stream at the probes: caller->agent %s; agent->caller %s; %d answered calls recorded so far%s\n", fwd, back, recorded, verdict)
		b.ReportMetric(share["server"], fmt.Sprintf("cpu%%@%d", n))
		b.ReportMetric(rssPeak, fmt.Sprintf("rss-MB@%d", n))
		b.ReportMetric(max(fwdWin, backWin, fwd.loss, back.loss), fmt.Sprintf("loss%%@%d", n))
		if res.Failed > 0 {
			b.Logf("%d calls: %v", n, res)
		}
		time.Sleep(4 * time.Second)
	}
}

// udpRcvbufErrors is the machine's count of UDP datagrams dropped because a
// socket's receive buffer was full (/proc/net/snmp), which tells a server
// that reads too slowly from one that drops what it has read.
func udpRcvbufErrors() int64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	var head []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if head == nil {
			head = f
			continue
		}
		for i, h := range head {
			if h == "RcvbufErrors" && i < len(f) {
				n, _ := strconv.ParseInt(f[i], 10, 64)
				return n
			}
		}
	}
	return 0
}

// windowLoss is the percentage of sent packets not received, at least 0.
func windowLoss(sent, received int64) float64 {
	if sent <= 0 {
		return 0
	}
	return max(0, 100*float64(sent-received)/float64(sent))
}

// probeFigures sums a probe's streams that were not there before a level.
type probeFigures struct {
	streams, packets int
	loss             float64 // percent
	jitter, maxJit   time.Duration
}

func (f probeFigures) String() string {
	return fmt.Sprintf("%d streams, %d packets, loss %.3f%%, jitter mean %.1f ms max %.1f ms", f.streams, f.packets, f.loss,
		float64(f.jitter.Microseconds())/1000, float64(f.maxJit.Microseconds())/1000)
}

func measure(p *siptest.RTPProbe, seen map[string]bool) probeFigures {
	var f probeFigures
	var expected, lost int
	var jit time.Duration
	for _, st := range p.Streams() {
		if seen[fmt.Sprint(st.Source, st.SSRC)] {
			continue
		}
		f.streams++
		f.packets += st.Packets
		expected += st.Expected
		lost += st.Lost
		jit += st.Jitter
		f.maxJit = max(f.maxJit, st.MaxJitter)
	}
	if expected > 0 {
		f.loss = 100 * float64(lost) / float64(expected)
	}
	if f.streams > 0 {
		f.jitter = jit / time.Duration(f.streams)
	}
	return f
}

// connected counts the calls in progress that are connected.
func (s *benchServer) connected() int {
	n, cursor := 0, ""
	for {
		path := "/v1/calls?limit=1000"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		_, page := s.do("GET", path, nil)
		items, _ := page["items"].([]any)
		for _, it := range items {
			if it.(map[string]any)["status"] == "connected" {
				n++
			}
		}
		meta, _ := page["metadata"].(map[string]any)
		if cursor, _ = meta["next_cursor"].(string); cursor == "" {
			return n
		}
	}
}

// cdrsAfter returns the tenant's CDRs once there are at least n (or after
// 30 s).
func (s *benchServer) cdrsAfter(ctx context.Context, n int) []map[string]any {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var all []map[string]any
		cursor := ""
		for {
			path := "/v1/cdrs?limit=1000"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			_, page := s.do("GET", path, nil)
			items, _ := page["items"].([]any)
			for _, it := range items {
				all = append(all, it.(map[string]any))
			}
			meta, _ := page["metadata"].(map[string]any)
			cursor, _ = meta["next_cursor"].(string)
			if cursor == "" {
				break
			}
		}
		if len(all) >= n || time.Now().After(deadline) || ctx.Err() != nil {
			return all
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
