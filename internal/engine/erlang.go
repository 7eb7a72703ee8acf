package engine

import (
	"errors"
	"math"
	"time"
)

// Erlang C models a queue of N agents with Poisson arrivals, exponential
// handle times, first-come-first-served service, an unlimited queue and no
// abandonment (M/M/N). It is the staffing model every contact center knows,
// and the oracle the capacity simulator is checked against.

// ErrorOverloaded means the offered load needs more agents than there are:
// the queue grows without bound and Erlang C has no finite answer.
var ErrorOverloaded = errors.New("offered load is at or above the number of agents: the queue grows without bound")

// ErlangC returns the probability that a call has to wait, for n agents and an
// offered load of a Erlangs. It uses the Erlang B recursion, which stays
// accurate where factorials would overflow.
func ErlangC(n int, a float64) (float64, error) {
	if n <= 0 || a < 0 {
		return 0, errors.New("erlang c: need n > 0 agents and a >= 0 Erlangs")
	}
	if a >= float64(n) {
		return 1, ErrorOverloaded
	}
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return float64(n) * b / (float64(n) - a*(1-b)), nil
}

// Staffing is what Erlang C predicts for one queue.
type Staffing struct {
	Agents int
	// Load is the offered traffic in Erlangs: arrivals per second × AHT.
	Load float64
	// PWait is the probability that a call waits at all.
	PWait float64
	// ASA is the mean wait over all calls.
	ASA time.Duration
	// WaitIfWaiting is the mean wait of the calls that do wait.
	WaitIfWaiting time.Duration
	// ServiceLevel is the share of calls answered within the threshold.
	ServiceLevel float64
	// QueueLength is the mean number of calls waiting.
	QueueLength float64
	// Occupancy is the share of agent time spent handling calls.
	Occupancy float64
}

// ErlangCStaffing predicts the queue for callsPerHour arrivals, an average
// handle time aht, n agents and a service-level threshold.
func ErlangCStaffing(callsPerHour float64, aht time.Duration, n int, threshold time.Duration) (Staffing, error) {
	a := callsPerHour / 3600 * aht.Seconds()
	c, err := ErlangC(n, a)
	if err != nil {
		return Staffing{Agents: n, Load: a, PWait: c, Occupancy: 1}, err
	}
	free := float64(n) - a
	secs := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	return Staffing{
		Agents:        n,
		Load:          a,
		PWait:         c,
		ASA:           secs(c * aht.Seconds() / free),
		WaitIfWaiting: secs(aht.Seconds() / free),
		ServiceLevel:  1 - c*math.Exp(-free*threshold.Seconds()/aht.Seconds()),
		QueueLength:   c * a / free,
		Occupancy:     a / float64(n),
	}, nil
}

// PositionWait estimates how long the caller at position (1 = next) waits when
// all agents are busy: agents free up at n/aht per second, so the caller waits
// for position of those departures. It is exact for exponential handle times.
func PositionWait(position, agents int, aht time.Duration) time.Duration {
	if position <= 0 {
		return 0
	}
	if agents <= 0 {
		return -1
	}
	return time.Duration(float64(position) * float64(aht) / float64(agents))
}
