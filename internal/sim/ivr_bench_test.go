package sim_test

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/engine"
	"switchboard/internal/sim"
)

// BenchmarkIVR routes the same inbound calls into one queue of 100 agents at
// about 85 % occupancy in virtual time, twice per round: dialled straight to
// the queue (the baseline), and through an IVR menu and its submenu (two
// prompts, two digits keyed a second apart, then the queue). It reports calls
// per CPU second of each (see routeOneQueue for why CPU time) and their ratio
// (menu over direct): what walking a menu costs the engine per call.
//
// Run: go test -run '^$' -bench IVR -benchtime 1x ./internal/sim
func BenchmarkIVR(b *testing.B) {
	const calls = 20000
	for range b.N {
		direct := routeThroughMenu(b, false, calls)
		menu := routeThroughMenu(b, true, calls)
		b.ReportMetric(direct, "direct-calls/s")
		b.ReportMetric(menu, "menu-calls/s")
		b.ReportMetric(menu/direct, "ratio")
	}
}

func routeThroughMenu(b *testing.B, viaMenu bool, calls int) float64 {
	const n = 100
	clock := engine.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	drv := sim.New(clock)
	eng := engine.New(engine.Options{Clock: clock, Telephony: drv, Router: engine.NewRouter(rand.New(rand.NewPCG(1, 2))),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	drv.SetEngine(eng)
	q := switchboard.Queue{ID: 1, TenantID: 1, Name: "q", Strategy: switchboard.StrategyLeastRecent, WrapUpSeconds: 10}
	q.Normalize()
	var members []switchboard.QueueMember
	for i := range n {
		id := int64(i + 1)
		dev := fmt.Sprint("dev", id)
		drv.SetDevice(dev, sim.Device{Registered: true, Behavior: sim.Answer, AnswerAfter: 2 * time.Second})
		eng.SetAgent(id, dev)
		eng.SetStatus(id, switchboard.StatusAvailable, true)
		members = append(members, switchboard.QueueMember{QueueID: q.ID, UserID: id, Position: i + 1})
	}
	number := "+15550000100"
	script := sim.Script{Patience: 5 * time.Minute}
	if viaMenu {
		eng.SetQueue(q, members)
		qid, sub := q.ID, int64(2)
		eng.SetMenus(1, []switchboard.IVRMenu{
			{ID: 1, Name: "main", Prompt: "main", TimeoutSeconds: 5, Options: []switchboard.IVROption{
				{Digit: "1", IVRAction: switchboard.IVRAction{Action: switchboard.IVRToMenu, MenuID: &sub}}},
				TimeoutAction: switchboard.IVRAction{Action: switchboard.IVRRepeat}, InvalidAction: switchboard.IVRAction{Action: switchboard.IVRRepeat},
				FinalAction: switchboard.IVRAction{Action: switchboard.IVRHangup}},
			{ID: sub, Name: "sub", Prompt: "sub", TimeoutSeconds: 5, Options: []switchboard.IVROption{
				{Digit: "2", IVRAction: switchboard.IVRAction{Action: switchboard.IVRToQueue, QueueID: &qid}}},
				TimeoutAction: switchboard.IVRAction{Action: switchboard.IVRRepeat}, InvalidAction: switchboard.IVRAction{Action: switchboard.IVRRepeat},
				FinalAction: switchboard.IVRAction{Action: switchboard.IVRHangup}},
		}, map[string]int64{number: 1})
		script.DTMF, script.DTMFAfter = "1,2", time.Second
	} else {
		eng.SetQueue(q, members, number)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	mean := 192 * time.Second * 100 / (85 * n) // 85 % occupancy of n agents holding a call ~192 s
	made := 0
	var arrive func()
	arrive = func() {
		if made == calls {
			return
		}
		made++
		s := script
		s.Talk = time.Duration(rng.ExpFloat64() * float64(180*time.Second))
		if _, _, err := drv.Call("+15550000001", number, s); err != nil {
			b.Fatal(err)
		}
		clock.AfterFunc(time.Duration(rng.ExpFloat64()*float64(mean)), arrive)
	}
	clock.AfterFunc(0, arrive)
	runtime.GC()
	cpu := cpuTime(b)
	for clock.Step() {
	}
	return float64(calls) / (cpuTime(b) - cpu).Seconds()
}
