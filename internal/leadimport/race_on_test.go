//go:build race

package leadimport

// raceEnabled is true under the race detector, whose instrumentation makes
// the long runs (100k rows, days of simulated dialling) take minutes: they
// skip there, and .ci/run runs them on their own, uninstrumented.
const raceEnabled = true
