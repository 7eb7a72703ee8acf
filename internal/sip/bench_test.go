package sip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"switchboard"
	"switchboard/internal/sqlstore"
	"switchboard/internal/sqlstore/sqlstoretest"
)

// serveUDP serves srv on a new UDP port of 127.0.0.1 until tb ends.
func serveUDP(tb testing.TB, ua *sipgo.UserAgent, srv *sipgo.Server) string {
	tb.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.ServeUDP(conn)
	tb.Cleanup(func() {
		ua.Close()
		conn.Close()
	})
	return conn.LocalAddr().String()
}

// BenchmarkRegisterRefresh measures authenticated REGISTER refreshes (a
// phone renewing its binding with credentials for a nonce it holds, nc
// counting up: one transaction, one store lookup, one digest check) through
// the guard and the registrar, against a bare sipgo handler answering 200 to
// every REGISTER, driven by the same client code in alternating rounds of
// one process. Run with -benchtime 1x; BENCH_ROUND (seconds, default 3) and
// BENCH_WORKERS (default 16) tune it. Reports each side's REGISTERs per CPU
// second of the process (client included) and their ratio.
func BenchmarkRegisterRefresh(b *testing.B) {
	round := 3 * time.Second
	if v, err := strconv.Atoi(os.Getenv("BENCH_ROUND")); err == nil && v > 0 {
		round = time.Duration(v) * time.Second
	}
	workers := 16
	if v, err := strconv.Atoi(os.Getenv("BENCH_WORKERS")); err == nil && v > 0 {
		workers = v
	}

	bareUA, _ := sipgo.NewUA()
	bare, _ := sipgo.NewServer(bareUA)
	bare.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	bareAddr := serveUDP(b, bareUA, bare)

	db := sqlstoretest.Open(b, sqlstoretest.SQLiteURL(b), sqlstore.Options{})
	ctx := context.Background()
	tn, err := db.CreateTenant(ctx, switchboard.Tenant{Slug: "acme", Name: "Acme"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range workers {
		if _, err := db.CreateUser(ctx, tn.ID, switchboard.User{Email: fmt.Sprintf("a%d@acme.test", i), FirstName: "A",
			Extension: fmt.Sprint(1000 + i), SIPPassword: "pw"}); err != nil {
			b.Fatal(err)
		}
	}
	var reg *Registrar
	guard := NewGuard(GuardOptions{Known: func(a netip.Addr) bool { return reg.KnownSource(a) }})
	reg = NewRegistrar(db, RegistrarOptions{Guard: guard})
	regUA, _ := sipgo.NewUA()
	regSrv, _ := sipgo.NewServer(regUA)
	regSrv.OnRegister(guard.Middleware(reg.ServeREGISTER))
	regAddr := serveUDP(b, regUA, regSrv)

	// Each worker is a phone with its own socket and, for the registrar, a
	// nonce it answers with an increasing count.
	type worker struct {
		cli  *sipgo.Client
		user string
		chal *digest.Challenge
		nc   int
	}
	ws := make([]*worker, workers)
	for i := range ws {
		ua, _ := sipgo.NewUA()
		b.Cleanup(func() { ua.Close() })
		cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
		w := &worker{cli: cli, user: fmt.Sprint(1000 + i)}
		res, err := cli.Do(ctx, newRequest(sip.REGISTER, regAddr, "127.0.0.1", w.user,
			sip.NewHeader("Contact", "<sip:"+w.user+"@127.0.0.1:5060>")))
		if err != nil || res.StatusCode != 401 {
			b.Fatalf("challenge: %v %v", res, err)
		}
		if w.chal, err = digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value()); err != nil {
			b.Fatal(err)
		}
		ws[i] = w
	}
	send := func(w *worker, server string, auth bool) bool {
		req := newRequest(sip.REGISTER, server, "127.0.0.1", w.user,
			sip.NewHeader("Contact", "<sip:"+w.user+"@127.0.0.1:5060>"))
		if auth {
			w.nc++
			cred, err := digest.Digest(w.chal, digest.Options{Method: "REGISTER", URI: req.Recipient.Addr(),
				Username: w.user, Password: "pw", Cnonce: "bench", Count: w.nc})
			if err != nil {
				return false
			}
			req.AppendHeader(sip.NewHeader("Authorization", cred.String()))
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		res, err := w.cli.Do(ctx, req)
		return err == nil && res.StatusCode == 200
	}
	// measure returns REGISTERs per CPU second of this process (client and
	// server both): steadier than wall time on a shared machine.
	measure := func(server string, auth bool) float64 {
		var ok, failed atomic.Int64
		deadline := time.Now().Add(round)
		var wg sync.WaitGroup
		cpu0 := cpuTime()
		for _, w := range ws {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					if send(w, server, auth) {
						ok.Add(1)
					} else {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if n := failed.Load(); n > 0 {
			b.Errorf("%d REGISTERs failed (auth %v)", n, auth)
		}
		return float64(ok.Load()) / (cpuTime() - cpu0).Seconds()
	}
	b.ResetTimer()
	for range b.N {
		var bareRate, regRate []float64
		for range 3 {
			bareRate = append(bareRate, measure(bareAddr, false))
			regRate = append(regRate, measure(regAddr, true))
		}
		br, rr := median(bareRate), median(regRate)
		b.ReportMetric(br, "bare-registers/cpu-s")
		b.ReportMetric(rr, "registrar-registers/cpu-s")
		b.ReportMetric(rr/br, "ratio")
	}
	b.StopTimer()
	if !reg.Registered("t" + fmt.Sprint(tn.ID) + ":1000") {
		b.Error("the benchmark's phones are not registered")
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

// BenchmarkGuardAdmit is the guard's cost on every request (validation, the
// scanner check, the source's bucket), in process, next to the cost of
// parsing the same request, which every request pays anyway: sub-benchmarks
// parse and admit, alternating with -count.
func BenchmarkGuardAdmit(b *testing.B) {
	g := NewGuard(GuardOptions{UnknownRate: 1e12, UnknownBurst: 1e12})
	req := newRequest(sip.INVITE, "127.0.0.1:5060", "127.0.0.1", "1001",
		sip.NewHeader("Contact", "<sip:1001@127.0.0.1:5062>"))
	callID := sip.CallIDHeader("bench@test")
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: 5062,
		Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	req.PrependHeader(via)
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	cl := sip.ContentLengthHeader(0)
	req.AppendHeader(&cl)
	raw := []byte(req.String())
	parser := sip.NewParser()
	parsed, err := parser.ParseSIP(raw)
	if err != nil {
		b.Fatal(err)
	}
	in := parsed.(*sip.Request)
	in.SetSource("127.0.0.1:5062")
	if !g.Admit(in, nil) {
		b.Fatal("the guard refused a valid request")
	}
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := parser.ParseSIP(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("admit", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if !g.Admit(in, nil) {
				b.Fatal("refused")
			}
		}
	})
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
