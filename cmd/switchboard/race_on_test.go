//go:build race

package main

// raceEnabled is true when the tests run under the race detector, whose
// instrumentation makes timings meaningless: latency tests skip there and
// .ci/run runs them on their own, uninstrumented.
const raceEnabled = true
